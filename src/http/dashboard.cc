#include <string>

#include "http/dashboard_files.h"

namespace meshmq::http {
namespace {

std::string_view ContentType(std::string_view path) {
  struct Type {
    std::string_view ext, type;
  };
  static constexpr Type kTypes[] = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},   {".svg", "image/svg+xml"},
      {".png", "image/png"},                 {".ico", "image/x-icon"},
      {".json", "application/json"},         {".map", "application/json"},
      {".woff2", "font/woff2"},              {".txt", "text/plain; charset=utf-8"},
  };
  for (const Type& t : kTypes) {
    if (path.ends_with(t.ext)) return t.type;
  }
  return "application/octet-stream";
}

void AddCommonHeaders(HttpResponse& r) {
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  // Scripts and styles only from this node; fetch/WebSocket to this node and to MQTT over
  // WebSocket listeners on other ports of the same host.
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'self'; img-src 'self' data:; style-src 'self' "
                         "'unsafe-inline'; connect-src 'self' ws: wss:; frame-ancestors 'none'");
}

HttpResponse MissingPage() {
  HttpResponse r;
  r.status = 200;  // the node is fine; only the optional web UI is absent
  r.content_type = "text/html; charset=utf-8";
  r.body = std::string(
               "<!doctype html><html><head><meta charset=\"utf-8\"><title>meshmq</title></head>"
               "<body style=\"font-family:sans-serif;max-width:40em;margin:3em auto\">"
               "<h1>meshmq dashboard not included</h1><p id=\"dashboard-missing\">") +
           kDashboardNote +
           "</p><p>The node works normally: the admin API is under <code>/api/v1</code>, "
           "metrics at <code>/metrics</code>. Rebuild with npm installed to embed the "
           "dashboard (docs/dashboard.md).</p></body></html>";
  r.headers.emplace_back("Cache-Control", "no-cache");
  AddCommonHeaders(r);
  return r;
}

}  // namespace

std::optional<HttpResponse> DashboardFile(std::string_view path) {
  if (path == "/" || path == "/index.html") {
    if (kDashboardFileCount == 0) return MissingPage();
    path = "/index.html";
  }
  for (size_t i = 0; i < kDashboardFileCount; ++i) {
    const EmbeddedFile& f = kDashboardFiles[i];
    if (f.path != path) continue;
    HttpResponse r;
    r.content_type = std::string(ContentType(path));
    r.body = std::string(f.data);
    // Vite names built assets by content hash: they never change under that name. index.html
    // names the current ones, so it is revalidated every time.
    r.headers.emplace_back("Cache-Control", path.starts_with("/assets/")
                                                ? "public, max-age=31536000, immutable"
                                                : "no-cache");
    AddCommonHeaders(r);
    return r;
  }
  return std::nullopt;
}

}  // namespace meshmq::http
