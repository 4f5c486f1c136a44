import { type DestinationStream, type Logger, pino } from 'pino';

/**
 * Paths pino blanks in every log line. The gateway logs codes, statuses and request ids, never
 * tokens; this list is the second line of defence for anything that slips into a log object.
 */
export const redactPaths = [
  'appToken',
  'accessToken',
  'refreshToken',
  'access_token',
  'refresh_token',
  'email',
  'authorization',
  '*.appToken',
  '*.accessToken',
  '*.refreshToken',
  '*.access_token',
  '*.refresh_token',
  '*.email',
  '*.authorization',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers["x-api-key"]',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'circle-auth-gateway' },
      redact: { paths: redactPaths, censor: '[redacted]' },
    },
    destination,
  );
}

export type { Logger };
