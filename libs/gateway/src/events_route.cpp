#include "kelvin/gateway/events_route.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "kelvin/core/identity.hpp"
#include "kelvin/gateway/query_parameters.hpp"
#include "kelvin/gateway/session_guard.hpp"

namespace kelvin::gateway {
namespace {

constexpr std::array<std::string_view, 1> kEventParameters = {"device"};

// Whether the session whose cookie opened the stream is still valid.
LiveFeed::StillAllowed session_still_valid(accounts::Accounts& accounts, const http::Request& request) {
  const auto cookie = session_cookie(request);
  if (!cookie) return [] { return false; };
  return [&accounts, token = std::string(*cookie)] {
    auto session = accounts.session(token);
    // A database that cannot answer now ends nothing: the next check asks again.
    return !session.ok() || session->has_value();
  };
}

// `owner`: the session's id, which the feed limits to LiveFeedOptions::max_per_owner streams.
void stream_events(LiveFeed& feed, accounts::Accounts& accounts, std::string owner, http::Request request,
                   http::Responder respond) {
  auto parameters = read_query_parameters(request.query, kEventParameters);
  if (auto* refused = std::get_if<http::Response>(&parameters)) return respond(std::move(*refused));
  std::optional<std::string> device_id;
  if (auto device = parameter(std::get<QueryParameters>(parameters), "device")) {
    if (auto valid = validate_device_id(*device); !valid) {
      return respond(http::error_response(400, "invalid_device_id", valid.error().message));
    }
    device_id = std::string(*device);
  }
  // An EventSource sends the last `id:` it saw when it reconnects: the export position to resume
  // after (live_feed.hpp). Only ids the gateway could have sent are taken.
  std::optional<std::uint64_t> resume_after;
  if (auto last_event_id = request.header("Last-Event-ID")) {
    auto position = whole_number(*last_event_id);
    if (!position) {
      return respond(http::error_response(400, "invalid_last_event_id",
                                          "Last-Event-ID must be an id this stream sent: a decimal number"));
    }
    resume_after = static_cast<std::uint64_t>(*position);
  }
  switch (feed.admission(owner)) {
    case LiveFeed::Admission::admitted:
      break;
    case LiveFeed::Admission::owner_full:
      return respond(http::error_response(429, "too_many_streams",
                                          "this session has " + std::to_string(feed.options().max_per_owner) +
                                              " live streams open already; close a dashboard tab or page first"));
    case LiveFeed::Admission::feed_full:
    case LiveFeed::Admission::stopped: {
      auto busy =
          http::error_response(503, "busy", "the gateway serves as many live streams as it takes; try again soon");
      busy.headers.emplace_back("Retry-After", "10");
      return respond(std::move(busy));
    }
  }
  http::Response head;
  head.content_type = "text/event-stream; charset=utf-8";
  head.headers.emplace_back("Cache-Control", "no-store");
  auto still_allowed = session_still_valid(accounts, request);
  auto stream = respond.stream(std::move(head), feed.options().max_buffered_bytes);
  if (!stream) return;  // the connection is gone
  // Taken since admission(): the stream just opened ends at once, and the browser retries.
  if (feed.subscribe(stream, std::move(device_id), std::move(owner), std::move(still_allowed), resume_after) !=
      LiveFeed::Admission::admitted) {
    stream->close();
  }
}

}  // namespace

void add_events_route(http::Router& router, const RouteGuard& guard, LiveFeed& feed, accounts::Accounts& accounts) {
  router.get("/api/v1/events", guard.user(Role::viewer, [&feed, &accounts](Principal principal, http::Request request,
                                                                           http::Responder respond) {
    stream_events(feed, accounts, std::move(principal.session_id), std::move(request), std::move(respond));
  }));
}

}  // namespace kelvin::gateway
