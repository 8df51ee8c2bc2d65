// The dashboard's state and navigation: the session (held in memory; GET /api/v1/session restores
// it after a reload), hash routes, and the header. Each page is a function that fills the main
// element and returns how to stop it (timers, observers) when the user leaves.
//
//   #/signin              sign in (every other route comes here without a session)
//   #/enrol               set up a second factor (forced while must_enrol_second_factor)
//   #/fleet               every device (the default)
//   #/devices/<id>?range= one device: facts and charts (range 1h, 24h, 7d)
//   #/alerts              the gateway's alerts: firing, then the history (operators acknowledge and silence)
//   #/gateway             the gateway's statistics
//   #/releases            the firmware releases the gateway holds
//   #/rollouts            firmware rollouts (operators start and command them)
//   #/rollouts/<id>       one rollout: every device's state
//   #/account             one's own account: change the password
//   #/users               users and the security setting (admins; others see why not)
//   #/audit               the audit log (admins; others see why not)

import { badgeText, firingLabel, firingSummary, type FiringSummary } from './alerts_model';
import { api, ApiError, onSessionProblem, setCsrfToken } from './api';
import { h, replace } from './dom';
import { sessionEndedMessage } from './messages';
import type { AlertsAnswer, Session } from './types';

export interface Page {
  dispose(): void;
}

export interface Route {
  name: 'signin' | 'enrol' | 'fleet' | 'device' | 'alerts' | 'gateway' | 'releases' | 'rollouts' | 'rollout' | 'account' | 'users'
    | 'audit';
  deviceId?: string;
  rolloutId?: number;
  params: URLSearchParams;
}

export interface AppContext {
  session: Session | null;
  main: HTMLElement;
  route: Route;
  // Shown once on the sign-in page (why the user is there).
  notice: string | null;
  navigate(hash: string): void;
  // After signing in or enrolling: remember the session and go where the user was going.
  signedIn(session: Session): void;
  signOut(): Promise<void>;
  refreshSession(): Promise<void>;
  // The firing alerts as a page read them (the alerts page): the header's badge shows them at once.
  showFiringAlerts(summary: FiringSummary): void;
}

export type PageFactory = (context: AppContext) => Page;

const SIMPLE_ROUTES = new Set(['alerts', 'gateway', 'releases', 'rollouts', 'account', 'users', 'audit']);

export function parseRoute(hash: string): Route {
  const text = hash.replace(/^#\/?/, '');
  const question = text.indexOf('?');
  const path = question < 0 ? text : text.slice(0, question);
  const params = new URLSearchParams(question < 0 ? '' : text.slice(question + 1));
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'signin') return { name: 'signin', params };
  if (parts[0] === 'enrol') return { name: 'enrol', params };
  if (parts.length === 1 && SIMPLE_ROUTES.has(parts[0])) return { name: parts[0] as Route['name'], params };
  if (parts[0] === 'rollouts' && parts.length === 2 && /^[1-9][0-9]*$/.test(parts[1])) {
    return { name: 'rollout', rolloutId: Number(parts[1]), params };
  }
  if (parts[0] === 'devices' && parts.length === 2) {
    let deviceId = parts[1];
    try {
      deviceId = decodeURIComponent(deviceId);
    } catch {
      // Keep it as typed: the API answers invalid_device_id.
    }
    return { name: 'device', deviceId, params };
  }
  return { name: 'fleet', params };
}

export function deviceHash(id: string, range?: string): string {
  return `#/devices/${encodeURIComponent(id)}${range ? `?range=${encodeURIComponent(range)}` : ''}`;
}

// How often the header's badge reads the firing alerts while the tab is shown.
export const ALERT_BADGE_REFRESH_MS = 15_000;

export class App implements AppContext {
  session: Session | null = null;
  route: Route = { name: 'fleet', params: new URLSearchParams() };
  notice: string | null = null;
  private page: Page | null = null;
  // The header's alert badge: what it last read (null: nothing yet, or it could not be read; firing
  // alerts that are silenced are not counted), its element in the header, and its timer.
  private firing: FiringSummary | null = null;
  private badge: HTMLElement | null = null;
  private alertsLink: HTMLAnchorElement | null = null;
  private badgeTimer: number | undefined;
  private badgePoll = 0; // the newest poll: only it sets the next timer
  private firingSeen = 0; // counts the pages' reports: a badge answer begun before one is older
  // Where to go after signing in: the route that sent the user to the sign-in page.
  private afterSignIn = '#/fleet';

  constructor(
    readonly header: HTMLElement,
    readonly main: HTMLElement,
    private readonly pages: Record<Route['name'], PageFactory>,
  ) {}

  async start(): Promise<void> {
    onSessionProblem((error) => this.sessionProblem(error));
    window.addEventListener('hashchange', () => this.show());
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) this.pollBadge();
    });
    try {
      this.remember(await api<Session>('GET', '/api/v1/session', { quiet: true }));
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401) {
        this.notice = 'The gateway could not tell whether you are signed in; sign in to continue.';
      }
    }
    this.show();
  }

  navigate(hash: string): void {
    if (window.location.hash === hash) this.show();
    else window.location.hash = hash;
  }

  signedIn(session: Session): void {
    this.remember(session);
    const target = this.afterSignIn;
    this.afterSignIn = '#/fleet';
    this.navigate(session.must_enrol_second_factor ? '#/enrol' : target);
  }

  async refreshSession(): Promise<void> {
    this.remember(await api<Session>('GET', '/api/v1/session', { quiet: true }));
  }

  async signOut(): Promise<void> {
    try {
      await api<void>('DELETE', '/api/v1/session', { quiet: true });
    } catch {
      // Already ended (401) or the gateway is away: the session is forgotten here either way.
    }
    this.remember(null);
    this.notice = 'You are signed out.';
    this.navigate('#/signin');
  }

  private remember(session: Session | null): void {
    const before = this.session;
    this.session = session;
    setCsrfToken(session ? session.csrf_token : null);
    if (!session || session.user !== before?.user) this.firing = null;
    this.renderHeader();
    this.pollBadge();
  }

  showFiringAlerts(summary: FiringSummary): void {
    this.firingSeen += 1; // a badge request still on its way is older than this
    this.firing = summary;
    this.updateBadge();
  }

  // Whether the badge reads the alerts: signed in, not bound to the second factor's enrolment.
  private badgeWanted(): boolean {
    return this.session !== null && !this.session.must_enrol_second_factor;
  }

  // Reads the firing alerts now, then every ALERT_BADGE_REFRESH_MS while the tab is shown and the
  // session lasts. Quiet: a session that ended is for the page's own requests to notice (the badge
  // must not send anyone to the sign-in page while they sign out).
  private pollBadge(): void {
    window.clearTimeout(this.badgeTimer);
    this.badgeTimer = undefined;
    if (!this.badgeWanted() || document.hidden) return;
    const poll = ++this.badgePoll;
    const seen = this.firingSeen;
    const user = this.session?.user;
    const current = () => poll === this.badgePoll && seen === this.firingSeen && this.session?.user === user;
    void (async () => {
      try {
        const answer = await api<AlertsAnswer>('GET', '/api/v1/alerts?state=firing&limit=1000', { quiet: true });
        if (!current()) return;
        this.firing = firingSummary(Array.isArray(answer?.alerts) ? answer.alerts : [],
          answer?.next_before !== null && answer?.next_before !== undefined);
      } catch {
        if (!current()) return;
        this.firing = null; // unknown: no badge rather than a stale count
      }
      this.updateBadge();
    })().finally(() => {
      if (poll !== this.badgePoll || !this.badgeWanted() || document.hidden) return;
      this.badgeTimer = window.setTimeout(() => this.pollBadge(), ALERT_BADGE_REFRESH_MS);
    });
  }

  // Shows this.firing in the header's badge, in place (a focused link keeps its focus).
  private updateBadge(): void {
    const badge = this.badge;
    const link = this.alertsLink;
    if (!badge || !link) return;
    const text = badgeText(this.firing);
    badge.textContent = text;
    badge.hidden = text === '';
    badge.classList.toggle('acknowledged', this.firing !== null && this.firing.unacknowledged === 0);
    const label = firingLabel(this.firing);
    badge.title = label;
    // The link's name for screen readers: "Alerts, 3 alerts firing"; just "Alerts" without a count.
    if (text === '') link.removeAttribute('aria-label');
    else link.setAttribute('aria-label', `Alerts, ${label}`);
  }

  private sessionProblem(error: ApiError): void {
    if (error.code === 'second_factor_enrolment_required') {
      if (this.session) this.session = { ...this.session, must_enrol_second_factor: true };
      this.navigate('#/enrol');
      return;
    }
    if (this.session === null && this.route.name === 'signin') return;
    if (this.route.name !== 'signin') this.afterSignIn = window.location.hash || '#/fleet';
    this.remember(null);
    this.notice = sessionEndedMessage(error);
    this.navigate('#/signin');
  }

  // Shows the page of the current hash, or the one the session state demands instead.
  private show(): void {
    let route = parseRoute(window.location.hash);
    if (!this.session && route.name !== 'signin') {
      this.afterSignIn = window.location.hash || '#/fleet';
      route = { name: 'signin', params: new URLSearchParams() };
      history.replaceState(null, '', '#/signin');
    } else if (this.session?.must_enrol_second_factor && route.name !== 'enrol') {
      route = { name: 'enrol', params: new URLSearchParams() };
      history.replaceState(null, '', '#/enrol');
    } else if (this.session && route.name === 'signin') {
      route = { name: 'fleet', params: new URLSearchParams() };
      history.replaceState(null, '', '#/fleet');
    }
    this.page?.dispose();
    this.page = null;
    this.route = route;
    this.renderHeader();
    replace(this.main);
    this.main.dataset.page = route.name;
    this.page = this.pages[route.name](this);
    if (route.name === 'signin') this.notice = null;
  }

  private renderHeader(): void {
    const session = this.session;
    this.header.hidden = session === null;
    this.badge = null;
    this.alertsLink = null;
    if (!session) {
      replace(this.header);
      return;
    }
    const link = (name: Route['name'], label: string) =>
      h('a', {
        href: `#/${name}`,
        'aria-current': this.route.name === name || (name === 'rollouts' && this.route.name === 'rollout') ? 'page' : null,
      }, label);
    const admin = session.role === 'admin';
    let alerts: HTMLAnchorElement | null = null;
    if (!session.must_enrol_second_factor) {
      this.badge = h('span', { class: 'nav-badge', 'aria-hidden': 'true', 'data-testid': 'alert-badge', hidden: true });
      alerts = link('alerts', 'Alerts');
      alerts.classList.add('alerts-link');
      alerts.append(this.badge);
      this.alertsLink = alerts;
    }
    const nav = session.must_enrol_second_factor
      ? null
      : h('nav', { class: 'app-nav', 'aria-label': 'Main' },
          link('fleet', 'Fleet'), alerts, link('gateway', 'Gateway'), link('releases', 'Releases'), link('rollouts', 'Rollouts'),
          admin && link('users', 'Users'), admin && link('audit', 'Audit'));
    const enrol =
      !session.second_factor_enrolled && !session.must_enrol_second_factor
        ? h('a', { href: '#/enrol', class: 'header-link' }, 'Set up a second factor')
        : null;
    replace(
      this.header,
      h('a', { href: '#/fleet', class: 'brand' }, 'kelvin'),
      nav,
      h('div', { class: 'header-user' },
        enrol,
        session.must_enrol_second_factor
          ? h('span', { class: 'user', 'data-testid': 'user' }, session.user)
          : h('a', {
              href: '#/account', class: 'user', 'data-testid': 'user', title: 'Your account and password',
              'aria-label': `${session.user}: your account`, 'aria-current': this.route.name === 'account' ? 'page' : null,
            }, session.user),
        h('span', { class: 'role', 'data-testid': 'role' }, session.role),
        h('button', { type: 'button', class: 'secondary', onclick: () => void this.signOut() }, 'Sign out'),
      ),
    );
    this.updateBadge();
  }
}
