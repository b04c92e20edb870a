// The tests run AsyncLocalStorage as the card manager does: backed by AsyncContextFrame. Node 22 and 23 need the
// flag (src/async-context-frame.ts restarts `npm start` with it); Node 24 has it by default and refuses the flag.
const major = Number(process.versions.node.split('.')[0]);

module.exports = {
  'node-option': ['import=tsx', ...(major < 24 ? ['experimental-async-context-frame'] : [])],
  spec: ['test/**/*.test.ts'],
  file: ['test/helpers/global.ts'],
  timeout: 30000,
  'forbid-only': true,
  exit: true,
};
