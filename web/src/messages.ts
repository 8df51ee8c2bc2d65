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
