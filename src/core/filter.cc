#include "core/filter.h"

#include <fmt/format.h>

#include "core/strings.h"

namespace cm {

Filter Filter::Eq(std::string attr, std::string value) {
  Filter f;
  f.kind_ = Kind::kEquality;
  f.attr_ = std::move(attr);
  f.value_ = std::move(value);
  return f;
}

Filter Filter::Present(std::string attr) {
  Filter f;
  f.kind_ = Kind::kPresent;
  f.attr_ = std::move(attr);
  return f;
}

Filter Filter::GreaterOrEqual(std::string attr, std::string value) {
  Filter f = Eq(std::move(attr), std::move(value));
  f.kind_ = Kind::kGreaterOrEqual;
  return f;
}

Filter Filter::LessOrEqual(std::string attr, std::string value) {
  Filter f = Eq(std::move(attr), std::move(value));
  f.kind_ = Kind::kLessOrEqual;
  return f;
}

Filter Filter::Substring(std::string attr, std::string initial, std::vector<std::string> any,
                         std::string final_part) {
  Filter f;
  f.kind_ = Kind::kSubstring;
  f.attr_ = std::move(attr);
  f.value_ = std::move(initial);
  f.any_ = std::move(any);
  f.final_ = std::move(final_part);
  return f;
}

Filter Filter::And(std::vector<Filter> children) {
  Filter f;
  f.kind_ = Kind::kAnd;
  f.children_ = std::move(children);
  return f;
}

Filter Filter::Or(std::vector<Filter> children) {
  Filter f;
  f.kind_ = Kind::kOr;
  f.children_ = std::move(children);
  return f;
}

Filter Filter::Not(Filter child) {
  Filter f;
  f.kind_ = Kind::kNot;
  f.children_.push_back(std::move(child));
  return f;
}

std::string EscapeFilterValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool utf8 = IsValidUtf8(value);
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (c == '*' || c == '(' || c == ')' || c == '\\' || c == '\0' || (!utf8 && u >= 0x80)) {
      out += fmt::format("\\{:02x}", u);
    } else {
      out += c;
    }
  }
  return out;
}

std::string Filter::ToString() const {
  switch (kind_) {
    case Kind::kAnd:
    case Kind::kOr: {
      std::string out = kind_ == Kind::kAnd ? "(&" : "(|";
      for (const auto& c : children_) out += c.ToString();
      return out + ")";
    }
    case Kind::kNot:
      return "(!" + children_.front().ToString() + ")";
    case Kind::kEquality:
      return fmt::format("({}={})", attr_, EscapeFilterValue(value_));
    case Kind::kGreaterOrEqual:
      return fmt::format("({}>={})", attr_, EscapeFilterValue(value_));
    case Kind::kLessOrEqual:
      return fmt::format("({}<={})", attr_, EscapeFilterValue(value_));
    case Kind::kPresent:
      return fmt::format("({}=*)", attr_);
    case Kind::kSubstring: {
      std::string out = fmt::format("({}={}*", attr_, EscapeFilterValue(value_));
      for (const auto& a : any_) out += EscapeFilterValue(a) + "*";
      return out + EscapeFilterValue(final_) + ")";
    }
  }
  return "";
}

namespace {

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  Result<Filter> ParseTop() {
    SkipSpaces();
    // Accept a bare `attr=value` item as many tools do.
    bool bare = i_ < s_.size() && s_[i_] != '(';
    auto f = bare ? ParseItem(s_.size()) : ParseFilter();
    if (!f.ok()) return f;
    SkipSpaces();
    if (i_ != s_.size()) return Error("unexpected text after the filter");
    return f;
  }

 private:
  Status Error(std::string_view what) const {
    return Status::InvalidInput(fmt::format("bad LDAP filter '{}' at offset {}: {}", s_, i_, what));
  }
  void SkipSpaces() {
    while (i_ < s_.size() && s_[i_] == ' ') ++i_;
  }

  Result<Filter> ParseFilter() {
    if (++depth_ > 64) return Error("nested too deeply");
    SkipSpaces();
    if (i_ >= s_.size() || s_[i_] != '(') return Error("expected '('");
    ++i_;
    SkipSpaces();
    if (i_ >= s_.size()) return Error("unterminated filter");
    Result<Filter> result = Status::Internal("unset");
    char c = s_[i_];
    if (c == '&' || c == '|') {
      ++i_;
      std::vector<Filter> children;
      SkipSpaces();
      while (i_ < s_.size() && s_[i_] == '(') {
        auto child = ParseFilter();
        if (!child.ok()) return child;
        children.push_back(std::move(*child));
        SkipSpaces();
      }
      result = c == '&' ? Filter::And(std::move(children)) : Filter::Or(std::move(children));
    } else if (c == '!') {
      ++i_;
      auto child = ParseFilter();
      if (!child.ok()) return child;
      result = Filter::Not(std::move(*child));
    } else {
      size_t close = FindClose();
      if (close == std::string_view::npos) return Error("missing ')'");
      result = ParseItem(close);
      if (!result.ok()) return result;
    }
    SkipSpaces();
    if (i_ >= s_.size() || s_[i_] != ')') return Error("expected ')'");
    ++i_;
    --depth_;
    return result;
  }

  // The end of an item: the first unescaped ')' (values never contain a raw parenthesis).
  size_t FindClose() const {
    for (size_t k = i_; k < s_.size(); ++k) {
      if (s_[k] == '\\') {
        ++k;
        continue;
      }
      if (s_[k] == ')') return k;
      if (s_[k] == '(') return std::string_view::npos;
    }
    return std::string_view::npos;
  }

  Result<std::string> Unescape(std::string_view v) const {
    std::string out;
    for (size_t k = 0; k < v.size(); ++k) {
      if (v[k] != '\\') {
        out += v[k];
        continue;
      }
      auto hex = [](char h) {
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'a' && h <= 'f') return h - 'a' + 10;
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        return -1;
      };
      if (k + 2 >= v.size()) return Error("truncated escape");
      int h1 = hex(v[k + 1]), h2 = hex(v[k + 2]);
      if (h1 < 0 || h2 < 0) return Error("escape must be two hex digits");
      out += static_cast<char>(h1 * 16 + h2);
      k += 2;
    }
    return out;
  }

  Result<Filter> ParseItem(size_t end) {
    std::string_view item = s_.substr(i_, end - i_);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) return Error("expected attr=value");
    Filter::Kind kind = Filter::Kind::kEquality;
    size_t attr_end = eq;
    char op = item[eq - 1];
    // `~=` (approximate) is read as equality, as OpenLDAP does without a phonetic index.
    if (op == '>' || op == '<' || op == '~') {
      if (op != '~') kind = op == '>' ? Filter::Kind::kGreaterOrEqual : Filter::Kind::kLessOrEqual;
      --attr_end;
    }
    std::string attr(Trim(item.substr(0, attr_end)));
    if (attr.empty()) return Error("empty attribute name");
    for (char ch : attr) {
      if (!(isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '.' || ch == ';' ||
            ch == ':')) {
        return Error("bad attribute name");
      }
    }
    std::string_view raw = item.substr(eq + 1);
    if (raw.find_first_of("()") != std::string_view::npos)
      return Error("unescaped parenthesis in a value (write \\28 / \\29)");
    i_ = end;
    if (kind == Filter::Kind::kEquality && raw == "*") return Filter::Present(attr);
    if (kind == Filter::Kind::kEquality && raw.find('*') != std::string_view::npos) {
      std::vector<std::string> pieces;
      for (auto& p : Split(raw, '*')) {
        auto u = Unescape(p);
        if (!u.ok()) return u.status();
        pieces.push_back(std::move(*u));
      }
      std::string initial = pieces.front(), final_part = pieces.back();
      std::vector<std::string> any;
      for (size_t k = 1; k + 1 < pieces.size(); ++k) {
        if (!pieces[k].empty()) any.push_back(pieces[k]);
      }
      return Filter::Substring(attr, initial, any, final_part);
    }
    auto value = Unescape(raw);
    if (!value.ok()) return value.status();
    Filter f = Filter::Eq(attr, *value);
    if (kind == Filter::Kind::kGreaterOrEqual) f = Filter::GreaterOrEqual(attr, *value);
    if (kind == Filter::Kind::kLessOrEqual) f = Filter::LessOrEqual(attr, *value);
    return f;
  }

  std::string_view s_;
  size_t i_ = 0;
  int depth_ = 0;
};

}  // namespace

Result<Filter> Filter::Parse(std::string_view text) { return Parser(text).ParseTop(); }

}  // namespace cm
