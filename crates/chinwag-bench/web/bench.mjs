//! Browser side of `chinwag-bench web`: drives Chromium (playwright-core from tests/node)
//! against a running chinwag and prints one part's result as JSON on stdout.
//!
//!   node bench.mjs ready   --server URL --tests-node DIR [--loads 20]
//!   node --experimental-websocket bench.mjs latency --server URL --tests-node DIR
//!        --agent ID --password PW --token TOKEN [--chats 20 --rate 10 --seconds 15]
//!        [--server-pid PID]
//!
//! The password is read from the environment variable CHINWAG_BENCH_PASSWORD when
//! `--password` is not given (so it is not on the command line).
import { parseArgs } from 'node:util';
import { launch } from './kit.mjs';
import { ready } from './ready.mjs';
import { latency } from './latency.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    server: { type: 'string' },
    'tests-node': { type: 'string' },
    loads: { type: 'string', default: '20' },
    agent: { type: 'string' },
    password: { type: 'string' },
    token: { type: 'string' },
    chats: { type: 'string', default: '20' },
    rate: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '15' },
    'server-pid': { type: 'string' },
  },
});
const part = positionals[0];
const server = values.server;
const testsNode = values['tests-node'];
if (!server || !testsNode || !['ready', 'latency'].includes(part || '')) {
  process.stderr.write('usage: bench.mjs ready|latency --server URL --tests-node DIR …\n');
  process.exit(2);
}

const browser = await launch(testsNode);
try {
  let result;
  if (part === 'ready') {
    result = await ready({ browser, server, loads: Number(values.loads) });
  } else {
    const password = values.password || process.env.CHINWAG_BENCH_PASSWORD || '';
    if (!values.agent || !password || !values.token) throw new Error('latency needs --agent, a password and --token');
    result = await latency({
      browser, server, agent: values.agent, password, token: values.token,
      chats: Number(values.chats), rate: Number(values.rate), seconds: Number(values.seconds),
      serverPid: values['server-pid'] ? Number(values['server-pid']) : null,
    });
  }
  process.stdout.write(JSON.stringify(result) + '\n');
} finally {
  await browser.close();
}
