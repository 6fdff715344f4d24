import { defineConfig } from 'vite';

// `npm run dev`: the Vite dev server on :5173, proxying the API and the hubs to a server on :5080
// (`./visionlabel serve`). `npm run build`: the production build into dist/, which the server serves at /.
export default defineConfig({
  build: {
    outDir: 'dist', emptyOutDir: true, sourcemap: true, target: 'es2022',
    // bench.html: the canvas benchmark page (bench/VisionLabel.Bench canvas), built beside the app.
    rollupOptions: { input: { main: 'index.html', bench: 'bench.html' } },
  },
  server: {
    proxy: {
      '/api': 'http://localhost:5080',
      '/openapi': 'http://localhost:5080',
      '/hubs': { target: 'http://localhost:5080', ws: true },
    },
  },
});
