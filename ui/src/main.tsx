// Entry point of the browser client: render the app and expose the read-only test hook.
import { render } from 'preact';
import { installTestHook } from './app/testHook.js';
import { App } from './components/App.js';

installTestHook(window);
const root = document.getElementById('app');
if (!root) throw new Error('index.html lacks #app');
render(<App />, root);
