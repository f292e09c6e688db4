// A waiting agent as its own process, for the browser tests of review gates: opens the review
// given as JSON in argv[3] on the server argv[2], long-polls until it is settled, prints the
// settled review as one JSON line and exits.
const [origin, body] = process.argv.slice(2);
const opened = await fetch(`${origin}/api/v1/reviews`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body,
}).then((r) => r.json());
for (;;) {
  const r = await fetch(`${origin}/api/v1/reviews/${encodeURIComponent(opened.review_id)}?wait=20`).then((x) => x.json());
  if (r.state !== 'pending') {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    break;
  }
}
