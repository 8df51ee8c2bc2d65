// What a person is told for each of the API's error codes (docs/api.md). Branch on the code, never
// on the API's message, which may change.

import { ApiError } from './api';

export function signInMessage(error: unknown): string {
  if (!(error instanceof ApiError)) return 'Signing in failed unexpectedly. Reload the page and try again.';
  switch (error.code) {
    case 'bad_credentials':
      return 'Wrong user name or password.';
    case 'second_factor_required':
      return 'Enter the 6-digit code from your authenticator app, or one of your recovery codes.';
    case 'bad_second_factor':
      return 'That code is wrong or was used already. Wait for the next code and try again.';
    case 'too_many_attempts':
      return tooManyAttempts(error.retryAfterS ?? 60);
    default:
      return generalMessage(error);
  }
}

export function tooManyAttempts(seconds: number): string {
  if (seconds <= 0) return 'Too many failed sign-ins. You can try again now.';
  const wait = seconds < 120 ? `${seconds} s` : `${Math.ceil(seconds / 60)} min`;
  return `Too many failed sign-ins. Try again in ${wait}.`;
}

// Messages for failures any page may meet.
export function generalMessage(error: unknown): string {
  if (!(error instanceof ApiError)) return 'Something went wrong. Reload the page and try again.';
  switch (error.code) {
    case 'network':
      return 'The gateway cannot be reached. Check the connection; the page keeps trying.';
    case 'not_signed_in':
      return 'You are not signed in.';
    case 'session_expired':
      return 'Your session has ended. Sign in again.';
    case 'busy':
    case 'unavailable':
      return `The gateway is busy. Try again${error.retryAfterS ? ` in ${error.retryAfterS} s` : ' in a moment'}.`;
    case 'forbidden':
      return 'Your role does not allow this.';
    case 'csrf_token_invalid':
      return 'This page is out of date. Reload it and try again.';
    case 'device_not_found':
      return 'This gateway does not know that device (it sent nothing and has no certificate, or was removed).';
    case 'invalid_device_id':
      return 'That is not a device id.';
    case 'store_error':
    case 'pki_error':
    case 'internal':
      return "The gateway could not answer. Its log says why; try again later.";
    default:
      return `The gateway refused this (${error.code}): ${error.message}`;
  }
}

export function sessionEndedMessage(error: ApiError): string {
  return error.code === 'session_expired'
    ? 'Your session has ended (30 minutes without activity, or 12 hours after signing in). Sign in again.'
    : 'You are not signed in.';
}

// The admin-only pages (users, audit) for anyone else: the gateway answers 403 forbidden.
export function adminOnlyMessage(user: string | undefined, role: string | undefined): string {
  const who = user && role ? ` You are signed in as ${user}, with the role ${role}.` : '';
  return `This page needs the admin role.${who}`;
}

// What the users page does to a user, for the messages below.
export type UserAction = 'add' | 'role' | 'password' | 'second_factor' | 'remove';

export interface UserActionContext {
  name: string;
  // The user's role as the page last saw it: tells a refused role change's two reasons apart.
  currentRole?: string;
  newRole?: string;
}

// A refused change on the users page, said in place. The 409 conflict has one reason per action
// (docs/api.md): the last admin, a role the user has already, no second factor to reset.
export function userActionMessage(action: UserAction, error: unknown, context: UserActionContext): string {
  if (!(error instanceof ApiError)) return generalMessage(error);
  const { name } = context;
  switch (error.code) {
    case 'user_exists':
      return `There is a user named ${name} already. Choose another name.`;
    case 'user_not_found':
      return `There is no user ${name} any more: someone removed it meanwhile. The list is up to date now.`;
    case 'invalid_request':
      if (action === 'add') {
        return `"${name}" cannot be a user name: use 1 to 64 characters of a–z, 0–9, ".", "_" and "-", starting with a lowercase letter.`;
      }
      return `The gateway refused this: ${error.message}`;
    case 'conflict':
      if (action === 'second_factor') return `${name} has no second factor: there is nothing to reset.`;
      if (action === 'role' && context.currentRole === context.newRole) return `${name} has the role ${context.newRole} already.`;
      if (action === 'role' && context.currentRole !== 'admin') {
        return `${name} has the role ${context.newRole} already (changed meanwhile). The list is up to date now.`;
      }
      return `${name} is the last admin: there must always be one. Make another user admin first.`;
    case 'forbidden':
      return 'Your role does not allow this any more: this needs the admin role.';
    default:
      return generalMessage(error);
  }
}

// Changing one's own password (POST /api/v1/session/password).
export function passwordChangeMessage(error: unknown): string {
  if (!(error instanceof ApiError)) return generalMessage(error);
  switch (error.code) {
    case 'bad_credentials':
      return 'The current password is wrong. Nothing changed.';
    case 'invalid_request':
      return `The new password is not allowed: ${error.message.replace(/; nothing changed$/, '')}. Nothing changed.`;
    default:
      return generalMessage(error);
  }
}

export type DeviceAction = 'revoke' | 'remove';

// A refused revocation or removal on a device's page (docs/api.md), said in place.
export function deviceActionMessage(action: DeviceAction, error: unknown, id: string): string {
  if (!(error instanceof ApiError)) return generalMessage(error);
  switch (error.code) {
    case 'nothing_to_revoke':
      return `${id}'s certificates are revoked or expired already: there is nothing to revoke.`;
    case 'device_not_found':
      return action === 'revoke'
        ? `${id} has no certificate: there is nothing to revoke.`
        : `${id} is removed already, or was never known to this gateway.`;
    case 'ca_key_unavailable':
      return `The gateway cannot sign with the CA key: it is encrypted and the gateway was not given its passphrase. Run kelvinctl device ${action} ${id} on the gateway's host.`;
    case 'device_action_failed':
      return 'The gateway could not change its certificate authority or store; its log says why. Trying again finishes what was begun.';
    case 'forbidden':
      return 'Your role does not allow this any more: it needs the operator role.';
    default:
      return generalMessage(error);
  }
}

// A refused release upload (docs/api.md, "Publishing a release"), in the operator's terms.
export function releaseUploadMessage(error: unknown): string {
  if (!(error instanceof ApiError)) return generalMessage(error);
  switch (error.code) {
    case 'bad_signature':
      return 'Refused: the manifest is not signed by the release key this gateway trusts. Nothing was published.';
    case 'malformed_manifest':
      return 'Refused: this is not a valid signed manifest. Nothing was published.';
    case 'image_mismatch':
      return 'Refused: the image is not the one the manifest signs (its SHA-256 differs). Nothing was published.';
    case 'release_exists':
      return `Refused: ${error.message}`;
    case 'image_too_large':
    case 'size_mismatch':
      return `Refused: ${error.message}`;
    case 'release_key_missing':
      return 'The gateway trusts no release key yet: on the gateway, kelvinctl release trust release.pub.';
    default:
      return generalMessage(error);
  }
}
