import fp from 'fastify-plugin';
import compress from '@fastify/compress';
import { BROTLI, ENCODINGS, GZIP, THRESHOLD } from '../lib/encoding.js';

/**
 * Response compression (br, gzip) for every route, through @fastify/compress: text, JSON, CSS
 * and SVG of 1 KB or more, encoded per response. The public trust routes send their cached
 * pages already encoded (encodedBody above); the plugin leaves a response that has a
 * Content-Encoding alone. Request bodies are not decompressed: uploads arrive as they always did.
 */
export default fp(
  async (app) => {
    // Downloads go out byte for byte: their Repr-Digest describes the file itself, and most files
    // (PDF, XLSX, ZIP) are compressed already. Runs before the plugin's own onSend (route level).
    app.addHook('onSend', async (request, reply, payload) => {
      const disposition = reply.getHeader('content-disposition');
      if (reply.getHeader('repr-digest') !== undefined || (typeof disposition === 'string' && /^attachment/i.test(disposition))) {
        // The plugin's own switch: it skips any request that carries this header.
        request.raw.headers['x-no-compression'] = 'download';
      }
      return payload;
    });
    await app.register(compress, {
      encodings: [...ENCODINGS],
      threshold: THRESHOLD,
      brotliOptions: BROTLI,
      zlibOptions: GZIP,
      globalDecompression: false,
    });
  },
  { name: 'compress' },
);
