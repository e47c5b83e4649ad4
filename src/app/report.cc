#include "app/report.h"

#include <fmt/format.h>

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "app/lifecycle.h"
#include "core/strings.h"
#include "io/file.h"

namespace cm {

namespace {

std::string Csv(std::string_view v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string Html(std::string_view v) {
  std::string out;
  for (char c : v) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// An option name such as MailEnableSourceAccount, escaped, with a line-break opportunity before
// each of its words, so a narrow column wraps it at "Source", never in the middle of "Account".
std::string HtmlOptionName(std::string_view v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    bool word_starts = i > 0 && std::isupper(static_cast<unsigned char>(v[i])) &&
                       std::islower(static_cast<unsigned char>(v[i - 1]));
    if (word_starts) out += "<wbr>";
    out += Html(v.substr(i, 1));
  }
  return out;
}

std::string Chart(const std::vector<ThroughputSample>& samples) {
  if (samples.size() < 2) return "<p>Too short a run to chart.</p>";
  double max_t = std::max(samples.back().elapsed, 0.001);
  double max_m = std::max<double>(static_cast<double>(samples.back().messages), 1);
  const int w = 640, h = 200;
  std::string points;
  for (const auto& s : samples) {
    points += fmt::format("{:.1f},{:.1f} ", s.elapsed / max_t * w,
                          h - static_cast<double>(s.messages) / max_m * h);
  }
  return fmt::format(
      "<svg width=\"{0}\" height=\"{1}\" viewBox=\"-40 -10 {2} {3}\" role=\"img\" "
      "aria-label=\"messages copied over time\">"
      "<rect x=\"0\" y=\"0\" width=\"{0}\" height=\"{1}\" fill=\"#f7f7f7\"/>"
      "<polyline fill=\"none\" stroke=\"#2a6\" stroke-width=\"2\" points=\"{4}\"/>"
      "<text x=\"-35\" y=\"10\" font-size=\"11\">{5}</text><text x=\"-35\" y=\"{1}\" "
      "font-size=\"11\">0</text>"
      "<text x=\"{6}\" y=\"{7}\" font-size=\"11\">{8:.1f} s</text></svg>",
      w, h, w + 60, h + 30, points, static_cast<uint64_t>(max_m), w - 40, h + 15, max_t);
}

// The migration's throughput: what every run copied over the time spent copying in all of them,
// so a resumed migration is not credited with the bytes of earlier runs in this run's seconds.
std::string Throughput(uint64_t bytes, uint64_t messages, double copying_seconds) {
  if (copying_seconds <= 0) return "throughput over all runs not recorded";
  return fmt::format("{:.1f} MB/s, {:.0f} msg/s over all runs ({:.1f} s spent copying)",
                     static_cast<double>(bytes) / 1e6 / copying_seconds,
                     static_cast<double>(messages) / copying_seconds, copying_seconds);
}

std::string& Tool() {
  static std::string tool = "crossmove";
  return tool;
}

}  // namespace

void SetReportingTool(std::string tool) { Tool() = std::move(tool); }
const std::string& ReportingTool() { return Tool(); }

std::string DatedReportBase(const std::string& base) {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &utc);
  std::string dated = fmt::format("{}-{}", base, stamp);
  struct stat st;
  for (int n = 2;
       ::stat((dated + ".html").c_str(), &st) == 0 || ::stat((dated + ".csv").c_str(), &st) == 0;
       ++n)
    dated = fmt::format("{}-{}-{}", base, stamp, n);
  return dated;
}

std::string VerifyResult(const ReportRow& row) {
  std::string repaired =
      row.repaired.empty()
          ? ""
          : fmt::format(" after repairing {}", CountOf(row.repaired.size(), "message"));
  if (row.failure.starts_with("verify:")) return "content FAILED";
  if (row.failure.starts_with("routing:"))
    return "content verified" + repaired + "; routing FAILED";
  if (row.state == "routing-verified") return "content and routing verified" + repaired;
  if (row.state == "content-verified" || row.state == "source-cleaned")
    return "content verified" + repaired;
  if (row.state == "rolled-back") return "rolled back";
  return "not yet";
}

void FailuresFirst(std::vector<ReportRow>& rows) {
  std::stable_sort(rows.begin(), rows.end(), [](const ReportRow& a, const ReportRow& b) {
    auto rank = [](const ReportRow& r) {
      return !r.failure.empty() ? 0 : !r.skipped.empty() ? 1 : 2;
    };
    return rank(a) < rank(b);
  });
}

Status WriteReport(const std::string& base, const RunReport& r) {
  std::string csv =
      "identity,source_dn,target_dn,target_primary_smtp,cleanup,state,verify,failure,messages,"
      "bytes,seconds,refused,skipped,repaired,first_step,last_step,stage,grade,waiting,"
      "bouncing_smtp,bouncing_x500\r\n";
  for (const auto& row : r.rows) {
    csv += fmt::format(
        "{},{},{},{},{},{},{},{},{},{},{:.2f},{},{},{},{},{},{},{},{},{},{}\r\n", Csv(row.identity),
        Csv(row.source_dn), Csv(row.target_dn), Csv(row.target_primary_smtp), Csv(row.cleanup),
        Csv(row.state), Csv(VerifyResult(row)), Csv(row.failure), row.messages, row.bytes,
        row.seconds, Csv(Join(row.refused, "; ")), Csv(row.skipped), Csv(Join(row.repaired, "; ")),
        Csv(row.first_step), Csv(row.last_step), Csv(row.stage), Csv(row.grade), Csv(row.waiting),
        row.bouncing_smtp, row.bouncing_x500);
  }
  // Forgotten mailboxes last, state "forgotten": a later move of the same mailbox has its own row.
  for (const auto& f : r.forgotten) {
    csv += fmt::format(
        "{},{},\"\",\"\",\"\",\"forgotten\",\"forgotten\",\"\",{},{},0.00,\"\",\"\",\"\","
        "{},{},\"forgotten\",\"\",{},0,0\r\n",
        Csv(f.identity), Csv(f.source_dn), f.messages, f.bytes, Csv(f.first_step), Csv(f.last_step),
        Csv(fmt::format("{} when forgotten at {}", f.state, f.forgotten_at)));
  }
  CM_RETURN_IF_ERROR(WriteFileAtomically(base + ".csv", csv, 0600));

  size_t failed = 0, skipped = 0, ungraded = 0;
  size_t bouncing_smtp = 0, bouncing_x500 = 0, bouncing_mailboxes = 0, bouncing_now = 0;
  uint64_t messages = 0, bytes = 0;
  for (const auto& row : r.rows) {
    bool bounces = row.bouncing_smtp + row.bouncing_x500 > 0;
    bouncing_smtp += row.bouncing_smtp;
    bouncing_x500 += row.bouncing_x500;
    bouncing_mailboxes += bounces;
    bouncing_now += bounces && (row.state == "source-cleaned" || row.state == "routing-verified");
    failed += !row.failure.empty();
    ungraded += !row.failure.empty() && row.grade.empty();
    skipped += !row.skipped.empty();
    messages += row.messages;
    bytes += row.bytes;
  }
  std::string rows;
  for (const auto& row : r.rows) {
    rows += fmt::format(
        "<tr class=\"{}\"><td class=t data-l=identity>{}</td>"
        "<td class=t data-l=\"new primary SMTP\">{}</td><td class=t data-l=\"target "
        "object\">{}</td>"
        "<td data-l=cleanup>{}</td><td data-l=state>{}</td><td class=\"{}\" data-l=verify>{}</td>"
        "<td data-l=failure>{}</td><td class=n data-l=messages>{}</td>"
        "<td class=n data-l=MB>{:.1f}</td><td class=n data-l=refused>{}</td>"
        "<td class=n data-l=repaired title=\"{}\">{}</td></tr>\n",
        !row.failure.empty()  ? "bad"
        : row.skipped.empty() ? "ok"
                              : "skipped",
        Html(row.identity), Html(row.target_primary_smtp), Html(row.target_dn),
        HtmlOptionName(row.cleanup) +
            (row.bouncing_smtp + row.bouncing_x500 == 0
                 ? std::string()
                 : fmt::format("<br><small>{} bounce</small>",
                               CountOf(row.bouncing_smtp + row.bouncing_x500, "old address"))),
        Html(row.state) +
            (row.stage.empty()
                 ? std::string()
                 : "<br>" + Html(row.stage) + (row.grade.empty() ? "" : ", " + Html(row.grade))) +
            (row.waiting.empty() ? std::string()
                                 : fmt::format("<br><small>{}</small>", Html(row.waiting))) +
            (row.first_step.empty() ? std::string()
                                    : fmt::format("<br><small>{} &ndash; {}</small>",
                                                  Html(row.first_step), Html(row.last_step))),
        VerifyResult(row).find("FAILED") != std::string::npos ? "v bad" : "v",
        Html(VerifyResult(row)),
        Html(row.failure.empty() && !row.skipped.empty() ? "skipped: " + row.skipped : row.failure),
        row.messages, static_cast<double>(row.bytes) / 1e6, row.refused.size(),
        Html(Join(row.repaired, "; ")), row.repaired.size());
  }
  std::string forgotten;
  if (!r.forgotten.empty()) {
    forgotten =
        "<h2>Forgotten</h2><p>Taken out of the journal by <code>crossmove forget</code>, so that a "
        "later run moves them again; what they were then:</p><table><tr><th>identity</th><th>"
        "source object</th><th>state when forgotten</th><th>steps</th><th>forgotten</th><th "
        "class=n>messages</th><th class=n>MB</th></tr>\n";
    for (const auto& f : r.forgotten) {
      forgotten += fmt::format(
          "<tr><td class=t data-l=identity>{}</td><td class=t data-l=\"source object\">{}</td>"
          "<td data-l=\"state when forgotten\">{}</td><td data-l=steps>{}</td><td "
          "data-l=forgotten>{}</td><td class=n data-l=messages>{}</td><td class=n "
          "data-l=MB>{:.1f}</td></tr>\n",
          Html(f.identity), Html(f.source_dn), Html(f.state),
          f.first_step.empty() ? std::string()
                               : Html(f.first_step) + " &ndash; " + Html(f.last_step),
          Html(f.forgotten_at), f.messages, static_cast<double>(f.bytes) / 1e6);
    }
    forgotten += "</table>";
  }
  std::string html = fmt::format(
      "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
      "content=\"width=device-width\"><title>{0}</title><style>"
      "body{{font-family:sans-serif;margin:1em;max-width:100%}}"
      // Long values wrap inside their cell: the table never gets wider than the page.
      "table{{border-collapse:collapse;width:100%;table-layout:fixed}}"
      // Words wrap at spaces; only a word too long for its line (a failure's path) is broken,
      // and addresses and DNs, long tokens by nature, may break anywhere.
      "td,th{{border:1px solid #ccc;padding:3px 6px;font-size:13px;overflow-wrap:break-word;"
      "vertical-align:top;text-align:left}}td.t{{overflow-wrap:anywhere}}"
      "td.v.bad{{font-weight:bold;color:#a00}}"
      "tr.bad{{background:#fdd}}tr.skipped{{background:#ffd}}td.n,th.n{{text-align:right}}"
      "col.n{{width:5.5em}}svg{{max-width:100%;height:auto}}"
      "dl{{display:grid;grid-template-columns:max-content 1fr;gap:2px 1em}}dt{{font-weight:bold}}"
      "dd{{margin:0;overflow-wrap:break-word}}"
      // A phone: each mailbox a card of labelled lines instead of ten squeezed columns.
      "@media (max-width:700px){{table,tbody,tr,td{{display:block;width:auto}}"
      "tr:first-child,colgroup{{display:none}}tr{{margin:0 0 .8em;border:1px solid #bbb}}"
      "td{{border:0;border-bottom:1px solid #eee;text-align:left!important}}"
      "td::before{{content:attr(data-l);display:inline-block;min-width:10em;font-weight:bold}}"
      "td:empty{{display:none}}"
      // The summary's labels take no more than 40% of a phone's width; long values wrap.
      "dl{{grid-template-columns:minmax(0,40%) minmax(0,1fr)}}dd{{overflow-wrap:anywhere}}}}"
      "</style></head><body>"
      "<h1>{0}</h1><p><b>{1}, {2} failed{8}</b>; {3}, {4:.1f} MB in the new mailboxes (copied "
      "over all runs, as they hold them now), {10}; "
      "this run {5:.1f} s.</p>{9}"
      "<h2>Mailboxes (failures first)</h2><table><colgroup><col><col><col><col><col><col><col>"
      "<col class=n><col class=n><col class=n><col class=n></colgroup><tr><th>identity</th>"
      "<th>new primary SMTP</th><th>target object</th>"
      "<th>cleanup</th><th>state</th><th>verify</th><th>failure</th><th class=n>messages</th><th "
      "class=n>MB</th><th class=n>refused</th>"
      "<th class=n>repaired</th></tr>\n{7}</table>{11}<h2>Throughput of this run</h2>{6}"
      "</body></html>\n",
      Html(r.title), CountOf(r.rows.size(), "mailbox"), failed, CountOf(messages, "message"),
      static_cast<double>(bytes) / 1e6, r.seconds, Chart(r.samples), rows,
      skipped ? fmt::format(", {} skipped (held by another run)", skipped) : std::string(),
      fmt::format(
          "<dl><dt>organizations</dt><dd>{}</dd><dt>cleanup</dt><dd>{}</dd><dt>migration "
          "started</dt><dd>{}</dd><dt>report written</dt><dd>{}{}</dd>{}{}</dl>",
          Html(r.organizations), Html(r.cleanup), Html(r.started), Html(r.written),
          r.written_by.empty() ? std::string() : " by " + Html(r.written_by),
          bouncing_mailboxes == 0
              ? std::string()
              : fmt::format("<dt>old addresses left to bounce</dt><dd>{} (mail to them gets an "
                            "NDR: no object is left to forward it) and {} (replies to old "
                            "mail fail), of {} cleaned up without a forwarder ({} so far)</dd>",
                            CountOf(bouncing_smtp, "SMTP address"),
                            CountOf(bouncing_x500, "X500/legacyExchangeDN address"),
                            CountOf(bouncing_mailboxes, "mailbox"), bouncing_now),
          r.grade.empty()
              ? std::string()
              : fmt::format(
                    "<dt>consistency grade (worst mailbox)</dt><dd>{}{}</dd>", Html(r.grade),
                    // A grade counts what a move left behind; a mailbox that
                    // failed has not been moved yet: it is not "Perfect".
                    ungraded ? " of the mailboxes that got through; " + UngradedNote(ungraded)
                             : std::string())),
      Throughput(bytes, messages, r.copying_seconds), forgotten);
  return WriteFileAtomically(base + ".html", html, 0600);
}

}  // namespace cm
