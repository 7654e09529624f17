import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// VITE_API_URL (from the environment or .env) is baked into the bundle at build time.
export default defineConfig({
  plugins: [react()],
});
