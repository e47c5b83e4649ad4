// Errors are values, as in LevelDB: every fallible function returns a Status or a Result<T>.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace cm {

class Status {
 public:
  enum class Code {
    kOk,
    kInvalidInput,       // bad CSV, config, identity, LDIF: the user must fix the input
    kNotFound,           // the object or file does not exist
    kAlreadyExists,      // the object already exists
    kConstraint,         // schema or uniqueness rule refused the change
    kPermissionDenied,   // credential file mode, ACL
    kUnavailable,        // cannot reach a server / open a store (retrying may help)
    kResourceExhausted,  // the server is out of room for this user (IMAP OVERQUOTA)
    kIOError,            // local file system failure
    kInternal,
  };

  Status() = default;
  static Status Ok() { return {}; }
  static Status InvalidInput(std::string m) { return {Code::kInvalidInput, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
  static Status Constraint(std::string m) { return {Code::kConstraint, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status ResourceExhausted(std::string m) {
    return {Code::kResourceExhausted, std::move(m)};
  }
  static Status IOError(std::string m) { return {Code::kIOError, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "not found: cn=x,dc=y" style, for logs and error output.
  std::string ToString() const;
  // Prefixes context ("source.ldif: ") keeping the code.
  Status Annotate(const std::string& context) const;

 private:
  Status(Code c, std::string m) : code_(c), message_(std::move(m)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace cm

#define CM_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::cm::Status cm_status_ = (expr);        \
    if (!cm_status_.ok()) return cm_status_; \
  } while (0)
