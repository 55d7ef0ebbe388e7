import type { ApiResponse } from './types';

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): ApiResponse {
  return { status, headers, body };
}

export function noContent(headers: Record<string, string> = {}): ApiResponse {
  return { status: 204, headers };
}

export function accepted(body?: unknown, headers: Record<string, string> = {}): ApiResponse {
  return { status: 202, headers, body };
}
