import { ActivityReporter } from './activity';
import { api, type ImageInfo } from '../api';
import { readFilter } from '../image-filters';
import { projectRole, type Member } from '../session';
import { toast } from '../toast';
import { CanvasView } from './canvas';
import { Editor } from './editor';
import { listen } from './input';
import type { LiveEvent } from './live';
import { panel } from './panels/panel';
import './panels/comments';
import './panels/consensus';
import './panels/feedback-dialog';
import './panels/guidelines';
import './panels/help';
import './panels/history';
import './panels/labels';
import './panels/mask-draft';
import './panels/objects';
import './panels/participants';
import './panels/reject-dialog';
import './panels/toolbar';
import './panels/work';
import type { Toolbar } from './panels/toolbar';
import { tools } from './tools/registry';
import { readDeepZoom, TileLayer } from './tiles';
import { LeaseKeeper } from './work';

/** The server's VisionLabel:Images:PyramidAbovePixels default: larger images are shown from tiles (docs/large-images.md). */
const TiledAbovePixels = 40_000_000;

/**
 * The editor page: the image on a canvas with every shape, live with everyone else on the image. It builds the DOM,
 * opens the image and wires the pieces: the Editor (state store, live connection, view), the canvases (canvas.ts),
 * input (input.ts: tools from tools/registry.ts, shortcuts.ts) and the panels (panels/, Lit elements).
 */
export class EditorPage {
  private readonly ed: Editor;
  private readonly canvas: CanvasView;
  private readonly base: HTMLCanvasElement;
  private readonly toolbar: Toolbar;
  private readonly cleanup: (() => void)[] = [];

  constructor(root: HTMLElement, private readonly imageId: string, user: string) {
    root.innerHTML = `<div class="editor"><div class="stage" tabindex="0"><img class="photo" alt="" draggable="false" /><canvas class="tiles" aria-hidden="true"></canvas><canvas class="base" aria-label="image and annotations"></canvas><canvas class="overlay"></canvas></div><div class="side"></div></div>`;
    const stage = root.querySelector<HTMLDivElement>('.stage')!;
    this.base = root.querySelector('canvas.base')!;
    this.ed = new Editor(imageId, user, stage);
    this.canvas = new CanvasView(this.ed, this.base, root.querySelector('canvas.overlay')!, root.querySelector('img.photo')!);
    this.toolbar = panel<Toolbar>('vl-toolbar', this.ed);
    this.toolbar.className = 'bar';
    root.querySelector('.editor')!.prepend(this.toolbar);
    root.querySelector('.side')!.append(...['vl-history-panel', 'vl-work-panel', 'vl-consensus-panel', 'vl-labels-panel', 'vl-guidelines-panel', 'vl-objects-panel', 'vl-comments-panel', 'vl-participants-panel', 'vl-help-overlay'].map(tag => panel(tag, this.ed)));
    // The stage's banners stack at its top: the image's stage (read only, rework) over click to mask's preview.
    const banners = document.createElement('div');
    banners.className = 'banners';
    banners.append(panel('vl-history-banner', this.ed), panel('vl-work-banner', this.ed), panel('vl-mask-draft', this.ed));
    stage.append(banners);
    root.querySelector('.editor')!.append(panel('vl-reject-dialog', this.ed), panel('vl-feedback-dialog', this.ed));
    this.ed.live.onEvent = e => this.liveEvent(e);
    this.cleanup.push(listen(this.ed));
    // What the role, the image's stage and a past state on show allow: ops are held back with the reason, and a drawing tool is put down.
    this.cleanup.push(this.ed.store.subscribe(s => [s.role, s.status, s.viewing], () => this.lockChanged()));
    const leases = new LeaseKeeper(this.ed);
    this.cleanup.push(() => leases.dispose());
    const activity = new ActivityReporter(this.ed);
    this.cleanup.push(() => activity.dispose());
    // The stage's size follows the window and the toolbar (which wraps onto a second row when narrow).
    const resized = new ResizeObserver(() => this.canvas.resize());
    resized.observe(stage);
    this.cleanup.push(() => resized.disconnect());
    this.open().catch(err => toast(`Cannot open the image: ${(err as Error).message}`, true));
  }

  dispose(): void {
    for (const c of this.cleanup) c();
    this.canvas.dispose();
    this.ed.live.stop();
  }

  private lockChanged(): void {
    const ed = this.ed, tool = ed.tool;
    ed.live.readOnly = ed.canEdit ? null : ed.readOnlyReason;
    if (ed.state.role && tool.edits && !(tool.keepsWhenLocked ? ed.mayEdit : ed.canEdit)) {
      ed.session.cancel?.();
      ed.store.set({ tool: tools[0].id });
      ed.stage.style.cursor = tools[0].cursor ?? 'crosshair';
      ed.redrawOverlay();
    }
  }

  private liveEvent(e: LiveEvent): void {
    const store = this.ed.store;
    switch (e.type) {
      case 'shapes':
        store.update(s => ({ shapes: { version: s.shapes.version + 1, changed: e.changed } }));
        break;
      case 'presence': store.update(s => ({ presence: s.presence + 1 })); break;
      case 'connection':
        store.set({ connected: e.connected });
        toast(e.connected ? 'Connected' : 'Connection lost: keep working, your edits are sent when it is back');
        break;
      case 'rejected': toast(`Not applied: ${e.reason}`, true); break;
      case 'status':
        store.set({ status: e.status });
        if (e.by !== this.ed.user) toast(`${e.by} set the image to ${e.status}`);
        break;
      case 'work': store.set({ work: e.state, status: e.state.status }); break;
      case 'comment-added':
        store.update(s => ({ comments: s.comments + 1 }));
        if (e.comment.author !== this.ed.user) toast(`${e.comment.author} added a comment`);
        break;
      case 'comment-changed': case 'comments-loaded': store.update(s => ({ comments: s.comments + 1 })); break;
    }
  }

  private async open(): Promise<void> {
    const ed = this.ed, store = ed.store;
    const info = await api.image(this.imageId);
    store.set({ info, status: info.status });
    // ← and → walk the images the grid showed: within its filters when it had some (?status=…, ?annotator=…; image-filters.ts).
    api.images(info.projectId, 0, 1000, readFilter(location.search)).then(page => store.set({ neighbours: page.items.map(i => i.id) })).catch(() => {});
    // The live connection is not waited for to show the image: a page that cannot reach the hub still shows it,
    // says it is offline, and keeps trying.
    const live = ed.live.start().catch(() => { toast('Cannot reach the live server: retrying', true); return ed.live.retry(); });
    const [project, members, work] = await Promise.all([
      api.project(info.projectId),
      api.members(info.projectId).catch(() => [] as Member[]),
      api.imageWork(this.imageId).then(w => w.state, () => undefined),
      this.loadImage(info),
    ]);
    const role = await projectRole(info.projectId, members);
    // A WorkChanged that arrived meanwhile is newer than what was read.
    store.set({ project, role, members, work: store.get().work ?? work, labels: new Map(project.labels.map(l => [l.id, l])), currentLabel: project.labels[0]?.id ?? '' });
    await this.toolbar.updateComplete; // the bar's final height sets the stage's: fit after it
    this.canvas.resize();
    ed.fit();
    ed.stage.focus();
    await live;
    this.base.dataset.ready = 'true'; // image fitted and the server's shapes loaded
    this.canvas.invalidate();
  }

  /** The picture: a large image (or a TIFF) from its pyramid's tiles, the rest as one <img>. */
  private async loadImage(info: ImageInfo): Promise<void> {
    if (info.tiled) {
      const canvas = this.ed.stage.querySelector<HTMLCanvasElement>('canvas.tiles')!;
      const layer = new TileLayer(canvas, this.imageId, await readDeepZoom(this.imageId), () => this.canvas.tileLoaded());
      this.cleanup.push(() => layer.dispose());
      await layer.start();
      this.canvas.useTiles(layer, canvas);
      return;
    }
    if (info.format === 'tiff' || info.width * info.height > TiledAbovePixels) {
      // Its pyramid is still being built (a job after upload): the file itself is too large, or not a format, to show.
      this.ed.stage.querySelector<HTMLImageElement>('img.photo')!.hidden = true;
      toast('This image is being cut into tiles to be shown: reopen it when its job is done (the project page lists jobs)', true);
      return;
    }
    const photo = this.ed.stage.querySelector<HTMLImageElement>('img.photo')!;
    return new Promise((resolve, reject) => {
      photo.onload = () => { this.canvas.invalidate(); resolve(); };
      photo.onerror = () => reject(new Error('the image file could not be loaded'));
      photo.src = `/api/images/${this.imageId}/original`;
    });
  }
}
