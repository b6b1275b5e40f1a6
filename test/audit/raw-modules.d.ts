/** Vite's `?raw` imports: a file's text (used to check the docs against the code). */
declare module "*.md?raw" {
  const text: string;
  export default text;
}
