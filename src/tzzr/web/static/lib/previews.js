// How an entry's files are shown: the one place that knows where pictures and sounds come
// from. The previews made at ingest (GET /entries/{h}/previews: thumb, large, waveform,
// and the original's width, height or duration) when there are some; until one is made
// (or where none will be), an image is shown from its original bytes. Every address here
// needs the key (a bearer token), which an <img src> or an <audio src> cannot send, so
// the bytes are fetched with it and shown from an object URL (the pages' CSP allows
// blob: for images and media, nothing else).
import { api, key } from "./api.js";

const urls = new Map(); // path -> Promise of an object URL, fetched once per page

// An object URL for an authenticated path (a blob, a preview). Previews and blobs are
// content-addressed and cached by the browser (immutable), so a page seen again is quick.
export function objectURL(path) {
  if (!urls.has(path)) {
    const made = (async () => {
      const response = await fetch(path, { headers: { Authorization: `Bearer ${key()}` } });
      if (!response.ok) throw new Error(`${path} answered ${response.status}`);
      return URL.createObjectURL(await response.blob());
    })();
    made.catch(() => urls.delete(path)); // a failure is tried again next time
    urls.set(path, made);
  }
  return urls.get(path);
}

export const kind = (mediaType) => (mediaType || "").split("/")[0];
const IMAGE = /^image\/(png|jpeg|gif|webp|avif|bmp)$/; // what a browser shows (not SVG)

// The previews the server made for entry h, file by file, or null where it has none to
// say (a server without the route).
async function made(h) {
  try {
    return (await api(`/entries/${h}/previews`)).files || [];
  } catch (error) {
    if (error.status === 404) return null;
    throw error;
  }
}

// What shows one file: { file, original, thumb, large, waveform, width, height, duration }
// (paths, or null). width and height are the original's (after its EXIF orientation,
// the space OCR's word boxes are in), given with a large preview; null when the picture
// shown is the original itself, which says its own size.
function view(file, preview) {
  const original = `/blobs/${file.sha256}`;
  const image = IMAGE.test((file.media_type || "").toLowerCase());
  const done = preview && preview.status === "done" ? preview : {};
  return {
    file,
    original,
    thumb: done.thumb || (image ? original : null),
    large: done.large || (image ? original : null),
    waveform: done.waveform || null,
    width: done.large ? done.width : null,
    height: done.large ? done.height : null,
    duration: done.duration ?? null,
  };
}

// The views of entry h's files, in the container's order (`contenedor` when the caller
// has it, else fetched).
export async function views(h, contenedor = null) {
  const previews = await made(h);
  const files = contenedor ? contenedor.files || [] : previews || (await api(`/entries/${h}`)).contenedor.files || [];
  return files.map((file, i) => view(file, previews && (previews[i]?.sha256 === file.sha256 ? previews[i] : previews.find((p) => p.sha256 === file.sha256))));
}

// The inbox's picture of an entry: { url, file } for its first file with a thumbnail or
// a waveform, or { file, url: null } (nothing to show) for its first file, or null (no files).
export async function thumbnail(h) {
  const shown = await views(h);
  const first = shown.find((v) => v.thumb || v.waveform) || shown[0];
  if (!first) return null;
  const path = first.thumb || first.waveform;
  return { file: first.file, url: path ? await objectURL(path) : null };
}
