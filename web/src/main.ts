// The dashboard's entry point (bundled by build.mjs into dist/assets/app-<hash>.js).

import './styles.css';

import { App } from './app';
import { accountPage } from './pages/account';
import { alertsPage } from './pages/alerts';
import { auditPage } from './pages/audit';
import { devicePage } from './pages/device';
import { enrolPage } from './pages/enrol';
import { fleetPage } from './pages/fleet';
import { gatewayPage } from './pages/gateway';
import { releasesPage } from './pages/releases';
import { rolloutPage, rolloutsPage } from './pages/rollouts';
import { signInPage } from './pages/signin';
import { usersPage } from './pages/users';

const header = document.getElementById('app-header');
const main = document.getElementById('app-main');
if (!header || !main) throw new Error('index.html lacks #app-header or #app-main');

const app = new App(header, main, {
  signin: signInPage,
  enrol: enrolPage,
  fleet: fleetPage,
  device: devicePage,
  alerts: alertsPage,
  gateway: gatewayPage,
  releases: releasesPage,
  rollouts: rolloutsPage,
  rollout: rolloutPage,
  account: accountPage,
  users: usersPage,
  audit: auditPage,
});
void app.start();
