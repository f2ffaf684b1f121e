// Console entry point: sign-in and sign-out, the top bar for the signed-in
// role, and handing each route to its view module.

import { clearKey, getKey, setKey, onUnauthorized, describe, ApiError } from './api.js';
import { h, $, errorBanner, wireDialog } from './dom.js';
import { forgetStores, loadStores } from './format.js';
import { startRouter, onRoute, parseRoute, navigate } from './router.js';
import { session, can, identify, whoamiText } from './session.js';
import { startKeys } from './keys.js';
import * as search from './search.js';
import * as order from './order.js';
import * as reports from './reports.js';
import * as admin from './admin.js';

const views = { search, order, reports, admin };
const app = document.getElementById('app');
let currentView = null;

function showSection(view) {
  for (const name of ['signin', 'search', 'order', 'reports', 'admin']) {
    document.getElementById(`view-${name}`).hidden = name !== view;
  }
  app.dataset.view = view;
}

function showSignIn(message) {
  if (currentView && views[currentView].leave) views[currentView].leave();
  currentView = null;
  $('#topbar').hidden = true;
  showSection('signin');
  const msg = $('#sign-in-message');
  msg.textContent = message || '';
  const input = $('#api-key');
  input.value = '';
  input.focus();
}

function buildHeader() {
  const me = session.me;
  $('#whoami').textContent = whoamiText(me);
  const nav = $('#main-nav');
  nav.replaceChildren(h('a', { id: 'nav-search', href: '/' }, 'Orders'));
  if (can.reports()) nav.append(h('a', { id: 'nav-reports', href: '/reports' }, 'Reports'));
  if (can.admin()) nav.append(h('a', { id: 'nav-admin', href: '/admin' }, 'Index health'));
  $('#topbar').hidden = false;
}

function markNav(view) {
  for (const link of document.querySelectorAll('#main-nav a')) {
    const active = (link.id === 'nav-search' && (view === 'search' || view === 'order'))
      || link.id === `nav-${view}`;
    if (active) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

let pendingBanner = '';

function render(route, info = {}) {
  if (!session.me) {
    showSignIn($('#sign-in-message').textContent);
    return;
  }
  const home = can.search() || can.readOrders() ? '/' : '/reports';
  const view = route.view;
  if (view === 'notfound' || (view === 'search' && home !== '/')) {
    navigate(home, { replace: true });
    return;
  }
  if ((view === 'reports' && !can.reports()) || (view === 'admin' && !can.admin())) {
    pendingBanner = `Your key (${session.me.role}) cannot open ${view === 'admin' ? 'index health' : 'reports'}.`;
    navigate(home, { replace: true });
    return;
  }
  errorBanner(pendingBanner);
  pendingBanner = '';
  if (currentView && currentView !== view && views[currentView].leave) views[currentView].leave();
  currentView = view;
  showSection(view);
  markNav(view);
  views[view].enter(route, info);
}

async function signIn(key, { restoring = false } = {}) {
  const me = await identify(key);
  session.me = me;
  setKey(key);
  buildHeader();
  try {
    await loadStores();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) throw error;
    errorBanner(`Stores could not be loaded (${describe(error)}); dates are shown in UTC.`);
  }
  if (!restoring) $('#api-key').value = '';
  render(parseRoute(window.location));
}

function signOut(message) {
  clearKey();
  session.me = null;
  forgetStores();
  search.reset();
  admin.reset();
  $('#whoami').textContent = '';
  $('#main-nav').replaceChildren();
  showSignIn(message || '');
}

function wire() {
  $('#sign-in').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = $('#api-key');
    const key = input.value.trim();
    const msg = $('#sign-in-message');
    if (!key) {
      msg.textContent = 'Paste an API key first.';
      input.focus();
      return;
    }
    const button = event.submitter || $('#sign-in button[type=submit]');
    button.disabled = true;
    msg.textContent = '';
    try {
      await signIn(key);
    } catch (error) {
      session.me = null;
      clearKey();
      msg.textContent = error instanceof ApiError && (error.status === 401 || error.status === 403)
        ? 'That key was not accepted.'
        : `Could not sign in: ${describe(error)}`;
      input.select();
    } finally {
      button.disabled = false;
    }
  });
  $('#sign-out').addEventListener('click', () => signOut('You are signed out.'));
  $('#keys-help-open').addEventListener('click', () => $('#keys-help').showModal());
  for (const dialog of document.querySelectorAll('dialog')) wireDialog(dialog);
  onUnauthorized(() => {
    if (session.me) signOut('Your key was revoked or expired; sign in again.');
  });
}

async function boot() {
  wire();
  startRouter();
  onRoute(render);
  startKeys({ search, order, currentView: () => currentView });
  const key = getKey();
  if (!key) {
    showSignIn('');
    return;
  }
  try {
    await signIn(key, { restoring: true });
  } catch (error) {
    session.me = null;
    const revoked = error instanceof ApiError && error.status === 401;
    // Only a refused key is forgotten; after a network error a reload retries.
    if (revoked) clearKey();
    showSignIn(revoked
      ? 'Your key was revoked or expired; sign in again.'
      : `Could not sign in: ${describe(error)}`);
  }
}

boot();
