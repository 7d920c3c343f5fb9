// A fake OpenAI-compatible server on 127.0.0.1 for tests and the fill benchmark: the product talks
// to it through the real `openai` client, exactly as it would to a real service.
// - POST /v1/embeddings: deterministic hashed bag-of-words vectors, as base64 float32 when asked
//   (the client asks for base64 by default) or as plain arrays.
// - POST /v1/chat/completions: reads the JSON the product sends as the user message
//   ({questions:[{id, text, sources:[{id, text}]}]}) and answers with the structured output the
//   product asked for, citing the first source of each question.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeOpenAI {
  url: string;
  /** Every request body received, in order. */
  requests: Array<{ path: string; body: any }>;
  usage(): { calls: number; embeddingCalls: number; tokens: number };
  reset(): void;
  /** Misbehaviours to test the product's guards. */
  behaviour: {
    /** Cite this source id in every answer as well (one the product never sent). */
    extraCitation?: string;
    /** Answer chat calls with this HTTP status. */
    chatStatus?: number;
    /** Put this text in every drafted answer. */
    text?: string;
  };
  close(): Promise<void>;
}

export const FAKE_DIMENSIONS = 256;

/** Lower-cased words with a crude plural/suffix fold, hashed into a fixed-size unit vector. */
export function fakeEmbedding(text: string): Float32Array {
  const v = new Float32Array(FAKE_DIMENSIONS);
  for (const raw of text.toLowerCase().split(/[^a-z0-9]+/)) {
    if (raw.length < 3) continue;
    const w = raw.replace(/(ing|ed|es|s)$/, '');
    let h = 2166136261;
    for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 16777619);
    v[(h >>> 0) % FAKE_DIMENSIONS]! += 1;
  }
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < v.length; i++) v[i]! /= norm;
  return v;
}

const tokens = (s: string) => Math.ceil(s.split(/\s+/).filter(Boolean).length * 1.3);

export async function startFakeOpenAI(): Promise<FakeOpenAI> {
  const requests: FakeOpenAI['requests'] = [];
  let calls = 0;
  let embeddingCalls = 0;
  let tokenCount = 0;
  const behaviour: FakeOpenAI['behaviour'] = {};

  const server = http.createServer((req, res) => {
    let raw = '';
    req
      .setEncoding('utf8')
      .on('data', (c) => {
        raw += c;
      })
      .on('end', () => {
        const send = (status: number, body: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        };
        let body: any;
        try {
          body = JSON.parse(raw);
        } catch {
          return send(400, { error: { message: 'invalid JSON' } });
        }
        const url = req.url ?? '';
        requests.push({ path: url, body });
        if (req.headers.authorization === undefined) return send(401, { error: { message: 'no key' } });
        if (req.method === 'POST' && url.endsWith('/embeddings')) {
          embeddingCalls++;
          const inputs: string[] = Array.isArray(body.input) ? body.input : [body.input];
          const used = inputs.reduce((n, s) => n + tokens(s), 0);
          tokenCount += used;
          return send(200, {
            object: 'list',
            model: body.model,
            data: inputs.map((text, index) => {
              const v = fakeEmbedding(text);
              return { object: 'embedding', index, embedding: body.encoding_format === 'base64' ? Buffer.from(v.buffer).toString('base64') : Array.from(v) };
            }),
            usage: { prompt_tokens: used, total_tokens: used },
          });
        }
        if (req.method === 'POST' && url.endsWith('/chat/completions')) {
          calls++;
          if (behaviour.chatStatus) return send(behaviour.chatStatus, { error: { message: 'fake failure' } });
          const user = [...body.messages].reverse().find((m: { role: string }) => m.role === 'user');
          const payload = JSON.parse(user.content) as { questions: Array<{ id: string; text: string; sources: Array<{ id: string; text: string }> }> };
          const answers = payload.questions.map((q) => {
            const first = q.sources[0];
            return {
              id: q.id,
              text: behaviour.text ?? (first ? `In short: ${first.text.split('. ')[0]!.replace(/\.$/, '')}.` : 'No source covers this question.'),
              citations: [...(first ? [first.id] : []), ...(behaviour.extraCitation ? [behaviour.extraCitation] : [])],
            };
          });
          const content = JSON.stringify({ answers });
          const prompt = body.messages.reduce((n: number, m: { content: string }) => n + tokens(m.content), 0);
          const completion = tokens(content);
          tokenCount += prompt + completion;
          return send(200, {
            id: `chatcmpl-${calls}`,
            object: 'chat.completion',
            created: Math.floor(Date.now() / 1000),
            model: body.model,
            choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content, refusal: null } }],
            usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
          });
        }
        return send(404, { error: { message: `no route ${req.method} ${url}` } });
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    behaviour,
    usage: () => ({ calls, embeddingCalls, tokens: tokenCount }),
    reset: () => {
      calls = 0;
      embeddingCalls = 0;
      tokenCount = 0;
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
