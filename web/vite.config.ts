// Builds the dashboard into dist/, which web/webui.go embeds into the Go binary.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    target: "es2022",
    chunkSizeWarningLimit: 200,
  },
  // `npm run dev` serves the sources and sends API calls to a local `chorus dev`.
  server: {
    proxy: {
      "/v1": "http://127.0.0.1:7080",
      "/ui/api": "http://127.0.0.1:7080",
    },
  },
});
