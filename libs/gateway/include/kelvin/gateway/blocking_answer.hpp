#pragma once
// Answering a request from a thread that may block (BlockingWork), so the HTTPS server's I/O
// thread never waits for a store query, a file or a password hash: the handler checks the request,
// hands the slow part over and returns; the answer goes through the request's Responder when the
// work is done (a Responder may be called from any thread).

#include <functional>

#include "kelvin/http/message.hpp"

namespace kelvin::gateway {

// Runs `work` on a thread that may block for a while (BlockingWork::post); false, without running
// it, when too much such work waits already. (The type account_routes.hpp names too.)
using BlockingExecutor = std::function<bool(std::function<void()> work)>;

// Runs `answer` through `run_blocking` and sends the response it returns through `respond`. When
// `run_blocking` refuses the work, answers 503 "busy" with Retry-After: 1 at once instead. If
// `answer` throws, or the work is dropped unrun (a stopping BlockingWork), the Responder goes
// unanswered and answers 500 "internal" itself.
void answer_blocking(const BlockingExecutor& run_blocking, http::Responder respond,
                     std::function<http::Response()> answer);

}  // namespace kelvin::gateway
