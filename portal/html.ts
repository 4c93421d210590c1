/// <reference lib="dom" />
import { h } from 'preact';
import htm from 'htm';

/** JSX-like templates without a JSX compiler: htm is Preact's own 1 KB tagged-template binding. */
export const html = htm.bind(h);
