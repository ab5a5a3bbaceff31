// Entry point of the setup page (/setup).
import { render } from 'preact';
import { Wizard } from './Wizard.js';
import '../styles.css';
import './wizard.css';

const root = document.getElementById('app');
if (!root) throw new Error('setup.html lacks #app');
render(<Wizard />, root);
