#include "core/status.h"

namespace cm {

namespace {
const char* CodeName(Status::Code c) {
  switch (c) {
    case Status::Code::kOk:
      return "ok";
    case Status::Code::kInvalidInput:
      return "invalid input";
    case Status::Code::kNotFound:
      return "not found";
    case Status::Code::kAlreadyExists:
      return "already exists";
    case Status::Code::kConstraint:
      return "constraint violation";
    case Status::Code::kPermissionDenied:
      return "permission denied";
    case Status::Code::kUnavailable:
      return "unavailable";
    case Status::Code::kResourceExhausted:
      return "resource exhausted";
    case Status::Code::kIOError:
      return "I/O error";
    case Status::Code::kInternal:
      return "internal error";
  }
  return "unknown";
}
}  // namespace

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(CodeName(code_)) + ": " + message_;
}

Status Status::Annotate(const std::string& context) const {
  if (ok()) return *this;
  return Status(code_, context + ": " + message_);
}

}  // namespace cm
