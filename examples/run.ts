/** `npm run example -- <name>`: runs examples/<name>.ts. */
const names = ['basic-usage', 'batch-operations', 'partitioning'];
const name = process.argv[2] ?? '';
if (!names.includes(name)) {
  console.error(`usage: npm run example -- <${names.join('|')}>`);
  process.exit(2);
}
const example = (await import(`./${name}.js`)) as { main: () => Promise<unknown> };
await example.main();
