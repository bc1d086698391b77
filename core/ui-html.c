/*
 * ui-html.c -- the web UI's markup helpers: escaping, the page frame,
 * asking questions and rendering any document.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ui-int.h"
#include "util.h"

/* Every text of the UI goes through http.h's one HTML escaper. */
void
ui_text(struct http_reply *r, const char *s)
{
	http_reply_html(r, s);
}

void
ui_url(struct http_reply *r, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char		 e[3];

	if (s == NULL)
		return;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~') {
			http_reply_add(r, s, 1);
			continue;
		}
		e[0] = '%';
		e[1] = hex[c >> 4];
		e[2] = hex[c & 15];
		http_reply_add(r, e, 3);
	}
}

const char *
ui_state(const char *state, char *buf, size_t len)
{
	const char	*p;

	if (state == NULL || *state == '\0' || strlen(state) > 32)
		return "state-unknown";
	for (p = state; *p != '\0'; p++)
		if ((*p < 'a' || *p > 'z') && *p != '_')
			return "state-unknown";
	snprintf(buf, len, "state-%s", state);
	return buf;
}

void
ui_head(struct http_reply *r, const char *title, const char *nav)
{
	static const char *const items[][2] = {
		{ "home", "/" }, { "catalog", "/ui/catalog" },
		{ "backfills", "/ui/backfills" }
	};
	size_t	i;

	r->status = 200;
	r->content_type = "text/html; charset=utf-8";
	http_reply_printf(r, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\"><title>");
	ui_text(r, title);
	http_reply_printf(r, " - meshd</title>"
	    "<meta name=\"viewport\" content=\"width=device-width\">"
	    "<link rel=\"stylesheet\" href=\"/ui/static/app.css\">"
	    "<script src=\"/ui/static/app.js\" defer></script>"
	    "</head><body><header><a class=\"brand\" href=\"/\">meshd</a>"
	    "<nav>");
	for (i = 0; i < nitems(items); i++)
		http_reply_printf(r, "<a href=\"%s\"%s>%s</a>", items[i][1],
		    nav != NULL && strcmp(nav, items[i][0]) == 0 ?
		    " class=\"current\"" : "", items[i][0]);
	/* The token is typed once and kept in sessionStorage by app.js;
	 * the server never sees it outside a POST's Authorization. */
	http_reply_printf(r, "</nav><form id=\"token-form\" class=\"token\">"
	    "<input type=\"password\" id=\"token\" placeholder=\"API token\" "
	    "autocomplete=\"off\"><button type=\"submit\">use</button>"
	    "<span id=\"token-state\"></span></form></header>"
	    "<div id=\"answer\" class=\"answer\" hidden></div><main>"
	    "<h1>");
	ui_text(r, title);
	http_reply_printf(r, "</h1>\n");
}

void
ui_foot(struct http_reply *r)
{
	http_reply_printf(r, "</main></body></html>\n");
}

int
ui_fail(struct http_reply *r, const char *title,
    const struct read_error *err)
{
	http_reply_reset(r);
	ui_head(r, title, NULL);
	http_reply_printf(r, "<p class=\"error\" data-status=\"%d\">",
	    err->status);
	ui_text(r, err->message);
	http_reply_printf(r, "</p>");
	ui_foot(r);
	r->status = err->status != 0 ? err->status : 500;
	return 0;
}

json_t *
ui_ask(struct read_ctx *ctx, struct read_error *err, const char *name, ...)
{
	struct read_args args = { 0 };
	const char	*k, *v;
	va_list		 ap;

	va_start(ap, name);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		if (v != NULL)
			read_args_add(&args, k, v);
	}
	va_end(ap);
	return read_ask(ctx, name, &args, err);
}

const char *
ui_str(const json_t *o, const char *key, const char *dflt)
{
	const char	*s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : dflt;
}

json_t *
ui_list(json_t *doc, const char *key)
{
	json_t	*a;

	if (json_is_array(doc))
		return doc;
	a = json_object_get(doc, key);
	return json_is_array(a) ? a : NULL;
}

void
ui_scalar(struct http_reply *r, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		ui_text(r, json_string_value(v));
		break;
	case JSON_INTEGER:
		http_reply_printf(r, "%lld", (long long)json_integer_value(v));
		break;
	case JSON_REAL:
		http_reply_printf(r, "%g", json_real_value(v));
		break;
	case JSON_TRUE:
		http_reply_printf(r, "yes");
		break;
	case JSON_FALSE:
		http_reply_printf(r, "no");
		break;
	default:
		http_reply_printf(r, "-");
		break;
	}
}

/* A value in a cell or a definition: states as badges. */
static void
ui_json_value(struct http_reply *r, const char *key, const json_t *v,
    int depth)
{
	char	b[48];

	if (json_is_string(v) && (strcmp(key, "state") == 0 ||
	    strcmp(key, "last_state") == 0)) {
		http_reply_printf(r, "<span class=\"badge %s\">",
		    ui_state(json_string_value(v), b, sizeof b));
		ui_text(r, json_string_value(v));
		http_reply_printf(r, "</span>");
	} else if (json_is_boolean(v) && strcmp(key, "passed") == 0) {
		/* A check: a failed one stands out. */
		http_reply_printf(r, "<span class=\"badge %s\">%s</span>",
		    json_is_true(v) ? "check-passed state-success" :
		    "check-failed state-failed",
		    json_is_true(v) ? "passed" : "FAILED");
	} else if (json_is_object(v) || json_is_array(v))
		ui_json(r, v, depth + 1);
	else
		ui_scalar(r, v);
}

void
ui_json(struct http_reply *r, const json_t *doc, int depth)
{
	const char	*key;
	json_t		*v, *item, *cols;
	size_t		 i, j;
	int		 table = 1;

	if (depth > 6) {
		http_reply_printf(r, "&hellip;");
		return;
	}
	if (json_is_object(doc)) {
		http_reply_printf(r, "<dl class=\"doc\">");
		json_object_foreach((json_t *)doc, key, v) {
			/* Microsecond times have *_local twins for people. */
			if (strlen(key) > 3 && strcmp(key + strlen(key) - 3,
			    "_us") == 0)
				continue;
			http_reply_printf(r, "<dt>");
			ui_text(r, key);
			http_reply_printf(r, "</dt><dd data-key=\"");
			ui_text(r, key);
			http_reply_printf(r, "\">");
			ui_json_value(r, key, v, depth);
			http_reply_printf(r, "</dd>");
		}
		http_reply_printf(r, "</dl>");
		return;
	}
	if (!json_is_array(doc)) {
		ui_scalar(r, doc);
		return;
	}
	if (json_array_size(doc) == 0) {
		http_reply_printf(r, "<span class=\"none\">none</span>");
		return;
	}
	json_array_foreach((json_t *)doc, i, item)
		if (!json_is_object(item))
			table = 0;
	if (!table) {
		http_reply_printf(r, "<ul class=\"doc\">");
		json_array_foreach((json_t *)doc, i, item) {
			http_reply_printf(r, "<li>");
			ui_json_value(r, "", item, depth);
			http_reply_printf(r, "</li>");
		}
		http_reply_printf(r, "</ul>");
		return;
	}
	/* The columns: every key of every item, in order of appearance. */
	cols = json_object();
	json_array_foreach((json_t *)doc, i, item)
		json_object_foreach(item, key, v)
			if (json_object_get(cols, key) == NULL &&
			    (strlen(key) <= 3 || strcmp(key + strlen(key) - 3,
			    "_us") != 0))
				json_object_set_new(cols, key, json_integer(
				    (json_int_t)json_object_size(cols)));
	http_reply_printf(r, "<table class=\"doc\"><thead><tr>");
	for (j = 0; j < json_object_size(cols); j++)
		json_object_foreach(cols, key, v)
			if ((size_t)json_integer_value(v) == j) {
				http_reply_printf(r, "<th>");
				ui_text(r, key);
				http_reply_printf(r, "</th>");
			}
	http_reply_printf(r, "</tr></thead><tbody>");
	json_array_foreach((json_t *)doc, i, item) {
		http_reply_printf(r, "<tr>");
		for (j = 0; j < json_object_size(cols); j++)
			json_object_foreach(cols, key, v)
				if ((size_t)json_integer_value(v) == j) {
					http_reply_printf(r, "<td data-key=\"");
					ui_text(r, key);
					http_reply_printf(r, "\">");
					ui_json_value(r, key, json_object_get(
					    item, key), depth);
					http_reply_printf(r, "</td>");
				}
		http_reply_printf(r, "</tr>");
	}
	http_reply_printf(r, "</tbody></table>");
	json_decref(cols);
}

void
ui_action(struct http_reply *r, const char *action, const char *label,
    const char *fields, ...)
{
	const char	*k, *v;
	va_list		 ap;

	http_reply_printf(r, "<form class=\"action\" data-action=\"");
	ui_text(r, action);
	http_reply_printf(r, "\">");
	va_start(ap, fields);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		if (v == NULL)
			continue;
		http_reply_printf(r, "<input type=\"hidden\" name=\"");
		ui_text(r, k);
		http_reply_printf(r, "\" value=\"");
		ui_text(r, v);
		http_reply_printf(r, "\">");
	}
	va_end(ap);
	if (fields != NULL)
		http_reply_printf(r, "%s", fields);
	http_reply_printf(r, "<button type=\"submit\">");
	ui_text(r, label);
	http_reply_printf(r, "</button></form>");
}
