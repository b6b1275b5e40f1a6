/** Hello world: what a Worker costs under local workerd before it does any work. */
export default {
  fetch() {
    return new Response("Hello, world", { headers: { "Content-Type": "text/plain; charset=utf-8" } });
  },
} satisfies ExportedHandler;
