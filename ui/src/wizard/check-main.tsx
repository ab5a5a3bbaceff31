// Entry point of the outside-check page (/check).
import { render } from 'preact';
import { OutsideCheck } from './OutsideCheck.js';
import '../styles.css';
import './wizard.css';

const root = document.getElementById('app');
if (!root) throw new Error('check.html lacks #app');
render(<OutsideCheck />, root);
