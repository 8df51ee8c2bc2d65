#pragma once
// The header fields every response carries, whoever wrote it (a handler, the router, the server's
// own 400/413/431/500): one function, so no path can forget the security headers.

#include "kelvin/http/message.hpp"

namespace kelvin::http {

// The complete header list of `response` (without Content-Length, Connection, Date and Server,
// which the server sets):
//   Content-Type                  response.content_type, when not empty
//   Strict-Transport-Security     max-age=31536000 (HTTPS only, for a year)
//   X-Content-Type-Options        nosniff
//   Content-Security-Policy       default-src 'self'; frame-ancestors 'none'
//   Referrer-Policy               no-referrer
//   Cache-Control                 no-store, for JSON (answers are per user and live)
// then response.headers, except fields these already set (compared case-insensitively: the
// standard value wins), framing fields the server owns (Content-Length, Transfer-Encoding,
// Connection) and any field whose name or value holds CR, LF or NUL (no header injection).
Headers response_headers(const Response& response);

// Case-insensitive ASCII comparison, as HTTP field names are compared.
bool field_name_equals(std::string_view a, std::string_view b) noexcept;

// Whether a Content-Type value is application/json, with or without parameters ("; charset=utf-8");
// media types compare case-insensitively.
bool is_json_media_type(std::string_view content_type) noexcept;

}  // namespace kelvin::http
