// The graph's minimap: every drawn node as a dot (running ones in the running colour, failed
// ones red) and the part of the graph in view as a frame; a click or a drag on it moves the
// view there. Redrawn on the graph's render events, at most once a frame.
import { cssVar } from '../lib/colors.js';

const W = 180;
const H = 120;
const PAD = 6;

export class Minimap {
  constructor(canvas, cy) {
    this.canvas = canvas;
    this.cy = cy;
    this.frame = 0;
    this.schedule = () => {
      if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.draw(); });
    };
    cy.on('render viewport', this.schedule);
    const go = (e) => this.panTo(e);
    canvas.addEventListener('pointerdown', (e) => {
      canvas.setPointerCapture(e.pointerId);
      go(e);
      canvas.addEventListener('pointermove', go);
    });
    canvas.addEventListener('pointerup', () => canvas.removeEventListener('pointermove', go));
    this.schedule();
  }

  destroy() {
    cancelAnimationFrame(this.frame);
    this.cy.off('render viewport', this.schedule);
  }

  /** The mapping from graph to minimap coordinates: {bb, k} (k: minimap px per graph px). */
  scale() {
    const bb = this.cy.nodes().boundingBox();
    const k = Math.min((W - 2 * PAD) / Math.max(1, bb.w), (H - 2 * PAD) / Math.max(1, bb.h));
    return { bb, k };
  }

  /** Centres the view on the graph point under the pointer. */
  panTo(e) {
    const { bb, k } = this.scale();
    const r = this.canvas.getBoundingClientRect();
    const x = bb.x1 + (e.clientX - r.left - PAD) / k;
    const y = bb.y1 + (e.clientY - r.top - PAD) / k;
    const z = this.cy.zoom();
    this.cy.pan({ x: this.cy.width() / 2 - x * z, y: this.cy.height() / 2 - y * z });
  }

  draw() {
    const cv = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    if (cv.width !== W * dpr) {
      cv.width = W * dpr;
      cv.height = H * dpr;
    }
    const g = cv.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, W, H);
    if (this.cy.nodes().empty()) return;
    const { bb, k } = this.scale();
    const px = (x) => PAD + (x - bb.x1) * k;
    const py = (y) => PAD + (y - bb.y1) * k;
    const colour = { running: cssVar('--running'), error: cssVar('--error') };
    const plain = cssVar('--faint');
    this.cy.nodes().forEach((n) => {
      const p = n.position();
      g.fillStyle = colour[n.data('status')] || plain;
      g.fillRect(px(p.x) - 1.5, py(p.y) - 1.5, 3, 3);
    });
    const e = this.cy.extent();
    g.strokeStyle = cssVar('--accent');
    g.lineWidth = 1.5;
    g.strokeRect(px(e.x1), py(e.y1), (e.x2 - e.x1) * k, (e.y2 - e.y1) * k);
  }
}
