import { builder } from './builder.js';
import './errors.js';
import './member-token.js';
import './tokens.js';

export const schema = builder.toSchema();
