// Cloudflare's ai-gateway-provider with @ai-sdk/openai and the Vercel AI SDK, pointed at a
// local `cf-aig serve`. Run by tests/integration/interop/test_js_clients.py:
//
//   node ai_gateway_provider.mjs '{"baseUrl": ..., "accountId": ..., "gateway": ..., ...}'
//
// The provider posts to https://gateway.ai.cloudflare.com/v1/{account}/{gateway} (its URL
// is fixed); the global fetch below sends that request to the local gateway instead, and
// nothing else leaves the machine.
import { generateText, jsonSchema, streamText, tool } from "ai";
import { createAiGateway } from "ai-gateway-provider";
import { createOpenAI } from "@ai-sdk/openai";

const CLOUDFLARE = "https://gateway.ai.cloudflare.com";
const args = JSON.parse(process.argv[2]);

const realFetch = globalThis.fetch;
globalThis.fetch = async (url, init) => {
  const target = String(url);
  if (!target.startsWith(CLOUDFLARE)) {
    throw new Error(`refused a request off the machine: ${target}`);
  }
  return realFetch(args.baseUrl + target.slice(CLOUDFLARE.length), init);
};

const aigateway = createAiGateway({
  accountId: args.accountId,
  gateway: args.gateway,
  apiKey: args.gatewayToken ?? "no-token",
  options: args.options ?? {},
});
const openai = createOpenAI({ apiKey: args.providerKey });
// openai.chat(...) speaks Chat Completions; openai(...) the Responses API (the SDK's default).
const model = (name) => (args.api === "responses" ? openai(name) : openai.chat(name));
const models = args.models.map(model);

const tools = args.tools
  ? {
      weather: tool({
        description: "The weather in a city",
        inputSchema: jsonSchema({
          type: "object",
          properties: { city: { type: "string" } },
          required: ["city"],
        }),
      }),
    }
  : undefined;

const request = {
  model: aigateway(models.length === 1 ? models[0] : models),
  prompt: args.prompt,
  tools,
  maxRetries: 0,
};

let out;
if (args.stream) {
  const result = streamText({
    ...request,
    onError: ({ error }) => {
      throw error;
    },
  });
  let text = "";
  for await (const part of result.textStream) text += part;
  const response = await result.response;
  out = {
    text,
    finishReason: await result.finishReason,
    usage: await result.usage,
    headers: response.headers ?? {},
  };
} else {
  const result = await generateText(request);
  out = {
    text: result.text,
    finishReason: result.finishReason,
    usage: result.usage,
    toolCalls: result.toolCalls.map((c) => ({ toolName: c.toolName, input: c.input })),
    headers: result.response.headers ?? {},
  };
}
process.stdout.write(JSON.stringify(out) + "\n");
