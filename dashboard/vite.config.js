import { defineConfig } from 'vite';

// The build is embedded in the meshmq binary (cmake/embed_dashboard.cmake), served from `/`.
// `npm run dev` proxies the API to a node on localhost:8082 for front-end work.
export default defineConfig({
  base: '/',
  build: { outDir: 'dist', assetsDir: 'assets', sourcemap: false, chunkSizeWarningLimit: 600 },
  server: { proxy: { '/api': 'http://127.0.0.1:8082' } },
});
