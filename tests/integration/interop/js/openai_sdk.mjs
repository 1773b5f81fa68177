// The openai npm SDK on the local gateway's OpenAI-compatible endpoint (compat), as a user of
// Cloudflare AI Gateway sets it up: baseURL .../v1/{account}/{gateway}/compat.
// Run by tests/integration/interop/test_js_clients.py with one JSON argument.
import OpenAI from "openai";

const args = JSON.parse(process.argv[2]);
const client = new OpenAI({
  apiKey: args.providerKey,
  baseURL: `${args.baseUrl}/v1/${args.accountId}/${args.gateway}/compat`,
  defaultHeaders: args.headers ?? {},
  maxRetries: 0,
});
const body = {
  model: args.model,
  messages: [{ role: "user", content: args.prompt }],
};

let out;
if (args.stream) {
  const stream = await client.chat.completions.create({
    ...body,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = "";
  let usage = null;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? "";
    if (chunk.usage) usage = chunk.usage;
  }
  out = { text, usage };
} else {
  const { data, response } = await client.chat.completions.create(body).withResponse();
  out = {
    text: data.choices[0].message.content,
    usage: data.usage,
    model: data.model,
    headers: Object.fromEntries(response.headers.entries()),
  };
}
process.stdout.write(JSON.stringify(out) + "\n");
