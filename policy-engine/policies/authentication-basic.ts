import { definePolicy } from './define.js';

/** `<authentication-basic username="…" password="…"/>`: sends `Authorization: Basic base64(username:password)` to the backend. */
export const authenticationBasic = definePolicy({
  name: 'authentication-basic',
  sections: ['inbound'],
  attributes: {
    username: { kind: 'string', required: true },
    password: { kind: 'string', required: true },
  },
  compile(node, env) {
    const username = env.attr(node, 'username', { kind: 'string', required: true });
    const password = env.attr(node, 'password', { kind: 'string', required: true });
    if (!username || !password) return undefined;
    return {
      run(ctx) {
        const credentials = Buffer.from(`${username.get(ctx)}:${password.get(ctx)}`, 'utf8').toString('base64');
        ctx.request.headers.set('Authorization', [`Basic ${credentials}`]);
      },
    };
  },
});
