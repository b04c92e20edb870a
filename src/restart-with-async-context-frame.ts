import { restartWithAsyncContextFrame } from './async-context-frame.ts';

// Imported first by src/main.ts (`npm start`), for its effect: ES modules are evaluated in import order, so the
// restart (Node 22 and 23 only, see async-context-frame.ts) happens before the rest of the program is loaded.
restartWithAsyncContextFrame();
