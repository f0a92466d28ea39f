// The render cells' geometry (src/tzzr/cells/render/geometry.py), for the browser:
// the same formulas, so the viewer draws what the cells render (a test compares them).
// A cell's defaults (its parameters model's, and `dims`) come from the page, which lists
// the registry's render cells: `define` them before posing.

const AXES = "xyzw";
export const PLANES = { 3: ["xy", "xz", "yz"], 4: ["xy", "xz", "xw", "yz", "yw", "zw"] };

export function hypercube(n) {
  const vertices = [];
  for (let i = 0; i < 1 << n; i++) {
    const v = [];
    for (let axis = n - 1; axis >= 0; axis--) v.push(i & (1 << axis) ? 1 : -1);
    vertices.push(v);
  }
  const edges = [];
  for (let a = 0; a < vertices.length; a++)
    for (let b = a + 1; b < vertices.length; b++) {
      let differ = 0;
      for (let k = 0; k < n; k++) if (vertices[a][k] !== vertices[b][k]) differ++;
      if (differ === 1) edges.push([a, b]);
    }
  return { vertices, edges };
}

function identity(n) {
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
}

function multiply(a, b) {
  const n = a.length;
  return a.map((row, i) => row.map((_, j) => {
    let sum = 0;
    for (let k = 0; k < n; k++) sum += a[i][k] * b[k][j];
    return sum;
  }));
}

export function rotation(n, angles) {
  let matrix = identity(n);
  for (const plane of PLANES[n]) {
    const angle = angles[plane] || 0;
    if (!angle) continue;
    const i = AXES.indexOf(plane[0]), j = AXES.indexOf(plane[1]);
    const r = identity(n);
    const c = Math.cos(angle), s = Math.sin(angle);
    r[i][i] = c; r[i][j] = -s; r[j][i] = s; r[j][j] = c;
    matrix = multiply(r, matrix);
  }
  return matrix;
}

function anglesAt(frame, fps, start, speeds) {
  const t = frame / fps, out = {};
  for (const p of new Set([...Object.keys(start), ...Object.keys(speeds)]))
    out[p] = ((start[p] || 0) + (speeds[p] || 0) * t) * Math.PI / 180;
  return out;
}

function project4(points, method, distance) {
  if (method === "stereographic") {
    const xyz = [], w = [];
    for (const p of points) {
      const norm = Math.hypot(...p) * distance;
      const q = p.map((x) => x / norm);
      xyz.push([q[0] / (1 - q[3]), q[1] / (1 - q[3]), q[2] / (1 - q[3])]);
      w.push(q[3]);
    }
    return { xyz, w };
  }
  return {
    xyz: points.map((p) => [p[0] / (distance - p[3]), p[1] / (distance - p[3]), p[2] / (distance - p[3])]),
    w: points.map((p) => p[3]),
  };
}

function project3(points, distance) {
  return {
    xy: points.map((p) => [p[0] * distance / (distance - p[2]), p[1] * distance / (distance - p[2])]),
    z: points.map((p) => p[2]),
  };
}

const reach = (radius, d) => radius * d / Math.sqrt(d * d - radius * radius);

function reach4(radius, method, d) {
  if (method === "stereographic") {
    const rho = 1 / d;
    return rho / Math.sqrt(1 - rho * rho);
  }
  return radius / Math.sqrt(d * d - radius * radius);
}

function weights(depth) {
  const lo = Math.min(...depth), hi = Math.max(...depth);
  return hi - lo < 1e-12 ? depth.map(() => 1) : depth.map((d) => (d - lo) / (hi - lo));
}

export const DEFAULTS = {};
export function define(cellId, defaults) { DEFAULTS[cellId] = defaults; }
const FILL = 0.45;

// Pixels (y down) and depth weights of a cell's pose at a frame, as the cell computes.
export function pose(cellId, params, frame) {
  const p = { ...DEFAULTS[cellId], ...params };
  const { vertices, edges } = hypercube(p.dims);
  const m = rotation(p.dims, anglesAt(frame, p.fps, p.angles, p.speeds));
  const rotated = vertices.map((v) => m.map((row) => row.reduce((s, x, k) => s + x * v[k], 0)));
  let flat, depth, bound;
  if (p.dims === 3) {
    const out = project3(rotated, p.distance);
    flat = out.xy; depth = out.z; bound = reach(Math.sqrt(3), p.distance);
  } else {
    const inner = project4(rotated, p.projection, p.distance4);
    flat = project3(inner.xyz, p.distance).xy; depth = inner.w;
    bound = reach(reach4(2, p.projection, p.distance4), p.distance);
  }
  const scale = FILL * p.size / bound, centre = p.size / 2;
  return {
    points: flat.map(([x, y]) => [centre + x * scale, centre - y * scale]),
    depth: weights(depth),
    edges,
  };
}

window.tzzrGeometry = { hypercube, rotation, pose, define, DEFAULTS, PLANES }; // for the browser test
