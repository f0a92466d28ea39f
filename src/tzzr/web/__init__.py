"""The web app's pages and assets, all served by `tzzr serve` (no CDN)."""
