// uPlot with the page's theme: colours are read from the CSS variables when a chart is made.
import { h } from './dom.js';

export const PALETTE = ['#4c7bd9', '#e8833a', '#2ea67a', '#b55fc8', '#d4a72c', '#3aa6c9', '#d9577a', '#7a8a2e', '#8c6bd9', '#c9753a'];

function css(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

export function axis(extra = {}) {
  const fg = css('--fg2');
  const grid = css('--border');
  return { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, ...extra };
}

/** A uPlot in `container`, sized to it and resized with the window. Returns the plot. */
export function makeChart(container, opts, data) {
  const width = Math.max(300, container.clientWidth || 800);
  const plot = new window.uPlot({ width, height: opts.height ?? 240, ...opts }, data, container);
  const onResize = () => {
    if (!container.isConnected) return window.removeEventListener('resize', onResize);
    plot.setSize({ width: Math.max(300, container.clientWidth), height: opts.height ?? 240 });
  };
  window.addEventListener('resize', onResize);
  return plot;
}

export function chartBox(label) {
  return h('div', { className: 'chart', role: 'img', 'aria-label': label });
}
