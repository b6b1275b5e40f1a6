declare module "htmx.org/dist/htmx.min.js" {
  const source: string;
  export default source;
}
declare module "*/static/app.js" {
  const source: string;
  export default source;
}
declare module "*/static/app.css" {
  const source: string;
  export default source;
}
