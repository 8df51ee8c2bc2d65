#pragma once
// GET /api/v1/events[?device=ID]: the live feed (live_feed.hpp) as Server-Sent Events, for the
// viewer role and up (docs/api.md, "Live events"). Without `device` the stream follows the whole
// fleet. Answers 400 invalid_device_id or unknown_parameter, 429 too_many_streams when the session
// has LiveFeedOptions::max_per_owner (8) streams open already, and 503 busy (with Retry-After) when
// the feed has as many subscribers as it takes. The stream ends when the session does: its cookie
// is checked again every LiveFeedOptions::recheck_interval, and that check counts as activity
// for the idle timeout, like the dashboard's requests.

#include "kelvin/accounts/accounts.hpp"
#include "kelvin/gateway/access.hpp"
#include "kelvin/gateway/live_feed.hpp"
#include "kelvin/http/router.hpp"

namespace kelvin::gateway {

// `feed` and `accounts` must outlive the router's use of the route.
void add_events_route(http::Router& router, const RouteGuard& guard, LiveFeed& feed, accounts::Accounts& accounts);

}  // namespace kelvin::gateway
