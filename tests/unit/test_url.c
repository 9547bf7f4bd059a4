/*
 * Unit tests of pgfetch's URL handling (cmd/pgfetch/url.c) on messy
 * input: IPv6 hosts, scheme and host case, default ports, user
 * information with escaped ':' and '@', fragments, empty queries,
 * repeated and valueless parameters, '+' and %2B, relative references,
 * spaces and bytes past ASCII, other schemes.  The tables were made by
 * running the functions this module replaced (http_redact, http_strip,
 * http_drop_param, http_add_param, http_resolve, http_same_origin) on the
 * same input, so that a row that changes is a change of behaviour; the
 * rows marked "Fixed" are the ones where that was a defect.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "jbuf.h"
#include "secrets.h"
#include "url.h"

/*
 * A URL through each editing function: redacted and stripped with the
 * usual secret names only, then also with sig and the key my_key; with
 * api_key and a dropped; with page=2 and an awkward q added.
 */
struct url_row {
	const char	*url;
	const char	*redact, *strip, *redact_names, *strip_names;
	const char	*drop_api_key, *drop_a, *add_page, *add_q;
};

/* base, ref, and the resolved URL or NULL (-1). */
struct resolve_row {
	const char	*base, *ref, *resolved;
};

struct origin_row {
	const char	*a, *b;
	int		 same;
};

#define ADD_Q	"x y&z+%2B/\303\251="

static const struct url_row url_rows[] = {
	{ "https://h/p",
	    "https://h/p", "https://h/p",
	    "https://h/p", "https://h/p",
	    "https://h/p", "https://h/p",
	    "https://h/p?page=2",
	    "https://h/p?q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
	{ "HTTPS://API.Example.COM/p?Token=abc",
	    "HTTPS://API.Example.COM/p?Token=***", "HTTPS://API.Example.COM/p",
	    "HTTPS://API.Example.COM/p?Token=***", "HTTPS://API.Example.COM/p",
	    "HTTPS://API.Example.COM/p?Token=abc", "HTTPS://API.Example.COM/p?Token=abc",
	    "HTTPS://API.Example.COM/p?Token=abc&page=2",
	    "HTTPS://API.Example.COM/p?Token=abc&q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
	{ "http://[::1]:8080/x?token=t&a=1",
	    "http://[::1]:8080/x?token=***&a=1", "http://[::1]:8080/x?a=1",
	    "http://[::1]:8080/x?token=***&a=1", "http://[::1]:8080/x?a=1",
	    "http://[::1]:8080/x?token=t&a=1", "http://[::1]:8080/x?token=t",
	    "http://[::1]:8080/x?token=t&a=1&page=2",
	    "http://[::1]:8080/x?token=t&a=1&q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
	{ "http://u:pw@[::1]:8080/x",
	    "http://***@[::1]:8080/x", "http://[::1]:8080/x",
	    "http://***@[::1]:8080/x", "http://[::1]:8080/x",
	    "http://u:pw@[::1]:8080/x", "http://u:pw@[::1]:8080/x",
	    "http://u:pw@[::1]:8080/x?page=2",
	    "http://u:pw@[::1]:8080/x?q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
	{ "http://h:80/x",
	    "http://h:80/x", "http://h:80/x",
	    "http://h:80/x", "http://h:80/x",
	    "http://h:80/x", "http://h:80/x",
	    "http://h:80/x?page=2",
	    "http://h:80/x?q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
	{ "https://h:443/x?key=k",
	    "https://h:443/x?key=***", "https://h:443/x",
	    "https://h:443/x?key=***", "https://h:443/x",
	    "https://h:443/x?key=k", "https://h:443/x?key=k",
	    "https://h:443/x?key=k&page=2",
	    "https://h:443/x?key=k&q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
	{ "http://us%3Aer:p%40ss@h/x?key=k",
	    "http://***@h/x?key=***", "http://h/x",
	    "http://***@h/x?key=***", "http://h/x",
	    "http://us%3Aer:p%40ss@h/x?key=k", "http://us%3Aer:p%40ss@h/x?key=k",
	    "http://us%3Aer:p%40ss@h/x?key=k&page=2",
	    "http://us%3Aer:p%40ss@h/x?key=k&q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
	/* Fixed: "ss" of the password showed (the first '@' was taken). */
	{ "http://u:p@ss@h/x",
	    "http://***@h/x", "http://h/x",
	    "http://***@h/x", "http://h/x",
	    "http://u:p@ss@h/x", "http://u:p@ss@h/x",
	    "http://u:p@ss@h/x?page=2",
	    "http://u:p@ss@h/x?q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
	{ "http://user@h/x",
	    "http://***@h/x", "http://h/x",
	    "http://***@h/x", "http://h/x",
	    "http://user@h/x", "http://user@h/x",
	    "http://user@h/x?page=2",
	    "http://user@h/x?q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
	{ "http://u:@h/x",
	    "http://***@h/x", "http://h/x",
	    "http://***@h/x", "http://h/x",
	    "http://u:@h/x", "http://u:@h/x",
	    "http://u:@h/x?page=2",
	    "http://u:@h/x?q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
	{ "http://@h/x",
	    "http://***@h/x", "http://h/x",
	    "http://***@h/x", "http://h/x",
	    "http://@h/x", "http://@h/x",
	    "http://@h/x?page=2",
	    "http://@h/x?q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
	{ "https://u:pw@h/p?a=1&token=t&b=2",
	    "https://***@h/p?a=1&token=***&b=2", "https://h/p?a=1&b=2",
	    "https://***@h/p?a=1&token=***&b=2", "https://h/p?a=1&b=2",
	    "https://u:pw@h/p?a=1&token=t&b=2", "https://u:pw@h/p?token=t&b=2",
	    "https://u:pw@h/p?a=1&token=t&b=2&page=2",
	    "https://u:pw@h/p?a=1&token=t&b=2&q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
	{ "http://h/p?api_key=k",
	    "http://h/p?api_key=***", "http://h/p",
	    "http://h/p?api_key=***", "http://h/p",
	    "http://h/p", "http://h/p?api_key=k",
	    "http://h/p?api_key=k&page=2",
	    "http://h/p?api_key=k&q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
	/* Fixed: the parameter went into the fragment, unsent. */
	{ "http://h/p?api_key=k&page=2#frag",
	    "http://h/p?api_key=***&page=2#frag", "http://h/p?page=2#frag",
	    "http://h/p?api_key=***&page=2#frag", "http://h/p?page=2#frag",
	    "http://h/p?page=2#frag", "http://h/p?api_key=k&page=2#frag",
	    "http://h/p?api_key=k&page=2&page=2#frag",
	    "http://h/p?api_key=k&page=2&q=x%20y%26z%2B%252B%2F%C3%A9%3D#frag" },
	{ "http://h/?api_keys=1&API_KEY=2",
	    "http://h/?api_keys=1&API_KEY=***", "http://h/?api_keys=1",
	    "http://h/?api_keys=1&API_KEY=***", "http://h/?api_keys=1",
	    "http://h/?api_keys=1&API_KEY=2", "http://h/?api_keys=1&API_KEY=2",
	    "http://h/?api_keys=1&API_KEY=2&page=2",
	    "http://h/?api_keys=1&API_KEY=2&q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
	/* Fixed: the parameter went into the fragment, unsent. */
	{ "http://h/p#frag",
	    "http://h/p#frag", "http://h/p#frag",
	    "http://h/p#frag", "http://h/p#frag",
	    "http://h/p#frag", "http://h/p#frag",
	    "http://h/p?page=2#frag",
	    "http://h/p?q=x%20y%26z%2B%252B%2F%C3%A9%3D#frag" },
	/* Fixed: the parameter went into the fragment, unsent. */
	{ "http://h/p#a?token=t&api_key=k",
	    "http://h/p#a?token=***&api_key=***", "http://h/p#a",
	    "http://h/p#a?token=***&api_key=***", "http://h/p#a",
	    "http://h/p#a?token=t", "http://h/p#a?token=t&api_key=k",
	    "http://h/p?page=2#a?token=t&api_key=k",
	    "http://h/p?q=x%20y%26z%2B%252B%2F%C3%A9%3D#a?token=t&api_key=k" },
	{ "http://h/p?",
	    "http://h/p", "http://h/p",
	    "http://h/p", "http://h/p",
	    "http://h/p", "http://h/p",
	    "http://h/p?&page=2",
	    "http://h/p?&q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
	/* Fixed: the parameter went into the fragment, unsent. */
	{ "http://h/p?#f",
	    "http://h/p#f", "http://h/p#f",
	    "http://h/p#f", "http://h/p#f",
	    "http://h/p#f", "http://h/p#f",
	    "http://h/p?&page=2#f",
	    "http://h/p?&q=x%20y%26z%2B%252B%2F%C3%A9%3D#f" },
	{ "http://h/p?a=1&a=2&token=x&token=y",
	    "http://h/p?a=1&a=2&token=***&token=***", "http://h/p?a=1&a=2",
	    "http://h/p?a=1&a=2&token=***&token=***", "http://h/p?a=1&a=2",
	    "http://h/p?a=1&a=2&token=x&token=y", "http://h/p?token=x&token=y",
	    "http://h/p?a=1&a=2&token=x&token=y&page=2",
	    "http://h/p?a=1&a=2&token=x&token=y&q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
	{ "http://h/p?flag&token&key=&a=",
	    "http://h/p?flag&token&key=***&a=", "http://h/p?flag&token&a=",
	    "http://h/p?flag&token&key=***&a=", "http://h/p?flag&token&a=",
	    "http://h/p?flag&token&key=&a=", "http://h/p?flag&token&key=",
	    "http://h/p?flag&token&key=&a=&page=2",
	    "http://h/p?flag&token&key=&a=&q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
	{ "http://h/p?q=a+b&r=%2B&token=a%2Bb",
	    "http://h/p?q=a+b&r=%2B&token=***", "http://h/p?q=a+b&r=%2B",
	    "http://h/p?q=a+b&r=%2B&token=***", "http://h/p?q=a+b&r=%2B",
	    "http://h/p?q=a+b&r=%2B&token=a%2Bb", "http://h/p?q=a+b&r=%2B&token=a%2Bb",
	    "http://h/p?q=a+b&r=%2B&token=a%2Bb&page=2",
	    "http://h/p?q=a+b&r=%2B&token=a%2Bb&q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
	{ "http://h/p q?token=a b",
	    "http://h/p q?token=***", "http://h/p q",
	    "http://h/p q?token=***", "http://h/p q",
	    "http://h/p q?token=a b", "http://h/p q?token=a b",
	    "http://h/p q?token=a b&page=2",
	    "http://h/p q?token=a b&q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
	{ "http://h/p\303\251?x=\303\251&secret=\303\251",
	    "http://h/p\303\251?x=\303\251&secret=***", "http://h/p\303\251?x=\303\251",
	    "http://h/p\303\251?x=\303\251&secret=***", "http://h/p\303\251?x=\303\251",
	    "http://h/p\303\251?x=\303\251&secret=\303\251", "http://h/p\303\251?x=\303\251&secret=\303\251",
	    "http://h/p\303\251?x=\303\251&secret=\303\251&page=2",
	    "http://h/p\303\251?x=\303\251&secret=\303\251&q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
	{ "ftp://u:p@h/x?password=p",
	    "ftp://***@h/x?password=***", "ftp://h/x",
	    "ftp://***@h/x?password=***", "ftp://h/x",
	    "ftp://u:p@h/x?password=p", "ftp://u:p@h/x?password=p",
	    "ftp://u:p@h/x?password=p&page=2",
	    "ftp://u:p@h/x?password=p&q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
	{ "mailto:someone@example.com?subject=hi&token=t",
	    "mailto:someone@example.com?subject=hi&token=***", "mailto:someone@example.com?subject=hi",
	    "mailto:someone@example.com?subject=hi&token=***", "mailto:someone@example.com?subject=hi",
	    "mailto:someone@example.com?subject=hi&token=t", "mailto:someone@example.com?subject=hi&token=t",
	    "mailto:someone@example.com?subject=hi&token=t&page=2",
	    "mailto:someone@example.com?subject=hi&token=t&q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
	{ "http://h",
	    "http://h", "http://h",
	    "http://h", "http://h",
	    "http://h", "http://h",
	    "http://h?page=2",
	    "http://h?q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
	{ "http://h?token=t",
	    "http://h?token=***", "http://h",
	    "http://h?token=***", "http://h",
	    "http://h?token=t", "http://h?token=t",
	    "http://h?token=t&page=2",
	    "http://h?token=t&q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
	/* Fixed: the parameter went into the fragment, unsent. */
	{ "http://h#f",
	    "http://h#f", "http://h#f",
	    "http://h#f", "http://h#f",
	    "http://h#f", "http://h#f",
	    "http://h?page=2#f",
	    "http://h?q=x%20y%26z%2B%252B%2F%C3%A9%3D#f" },
	{ "not a url",
	    "not a url", "not a url",
	    "not a url", "not a url",
	    "not a url", "not a url",
	    "not a url?page=2",
	    "not a url?q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
	{ "/relative?token=t",
	    "/relative?token=***", "/relative",
	    "/relative?token=***", "/relative",
	    "/relative?token=t", "/relative?token=t",
	    "/relative?token=t&page=2",
	    "/relative?token=t&q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
	{ "?token=t",
	    "?token=***", "",
	    "?token=***", "",
	    "?token=t", "?token=t",
	    "?token=t&page=2",
	    "?token=t&q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
	/* Fixed: with a dropped, the last '&' went onto the path. */
	{ "http://h/p?&&a=1&&",
	    "http://h/p?a=1&", "http://h/p?a=1&",
	    "http://h/p?a=1&", "http://h/p?a=1&",
	    "http://h/p?a=1&", "http://h/p",
	    "http://h/p?&&a=1&&&page=2",
	    "http://h/p?&&a=1&&&q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
	{ "http://h/p?sig=s&my_key=m&SIG=S",
	    "http://h/p?sig=s&my_key=m&SIG=S", "http://h/p?sig=s&my_key=m&SIG=S",
	    "http://h/p?sig=***&my_key=***&SIG=S", "http://h/p?SIG=S",
	    "http://h/p?sig=s&my_key=m&SIG=S", "http://h/p?sig=s&my_key=m&SIG=S",
	    "http://h/p?sig=s&my_key=m&SIG=S&page=2",
	    "http://h/p?sig=s&my_key=m&SIG=S&q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
	{ "http://h/x?redirect=http://u:p@o/&a=1",
	    "http://h/x?redirect=http://u:p@o/&a=1", "http://h/x?redirect=http://u:p@o/&a=1",
	    "http://h/x?redirect=http://u:p@o/&a=1", "http://h/x?redirect=http://u:p@o/&a=1",
	    "http://h/x?redirect=http://u:p@o/&a=1", "http://h/x?redirect=http://u:p@o/",
	    "http://h/x?redirect=http://u:p@o/&a=1&page=2",
	    "http://h/x?redirect=http://u:p@o/&a=1&q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
	{ "http://h/a/../b?x=1",
	    "http://h/a/../b?x=1", "http://h/a/../b?x=1",
	    "http://h/a/../b?x=1", "http://h/a/../b?x=1",
	    "http://h/a/../b?x=1", "http://h/a/../b?x=1",
	    "http://h/a/../b?x=1&page=2",
	    "http://h/a/../b?x=1&q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
	/* Fixed: the parameter went into the fragment, unsent. */
	{ "http://h/p?a=1#",
	    "http://h/p?a=1#", "http://h/p?a=1#",
	    "http://h/p?a=1#", "http://h/p?a=1#",
	    "http://h/p?a=1#", "http://h/p#",
	    "http://h/p?a=1&page=2#",
	    "http://h/p?a=1&q=x%20y%26z%2B%252B%2F%C3%A9%3D#" },
	{ "http://h/p?=v&token==x",
	    "http://h/p?=v&token=***", "http://h/p?=v",
	    "http://h/p?=v&token=***", "http://h/p?=v",
	    "http://h/p?=v&token==x", "http://h/p?=v&token==x",
	    "http://h/p?=v&token==x&page=2",
	    "http://h/p?=v&token==x&q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
	/* Fixed: the '&' that ended the query went onto the path. */
	{ "http://h/items?api_key=K&#f",
	    "http://h/items?api_key=***&#f", "http://h/items#f",
	    "http://h/items?api_key=***&#f", "http://h/items#f",
	    "http://h/items#f", "http://h/items?api_key=K&#f",
	    "http://h/items?api_key=K&&page=2#f",
	    "http://h/items?api_key=K&&q=x%20y%26z%2B%252B%2F%C3%A9%3D#f" },
	{ "",
	    "", "",
	    "", "",
	    "", "",
	    "?page=2",
	    "?q=x%20y%26z%2B%252B%2F%C3%A9%3D" },
};

static const struct resolve_row resolve_rows[] = {
	{ "http://h/a/b?x=1#f", "../x", "http://h/x" },
	{ "http://h/a/b?x=1#f", "?page=2", "http://h/a/b?page=2" },
	{ "http://h/a/b?x=1#f", "//other/x", "http://other/x" },
	{ "http://h/a/b?x=1#f", "https://o/y", "https://o/y" },
	{ "http://h/a/b?x=1#f", "/n?p=3", "http://h/n?p=3" },
	{ "http://h/a/b?x=1#f", "c?p=2", "http://h/a/c?p=2" },
	{ "http://h/a/b?x=1#f", "#g", "http://h/a/#g" },
	{ "http://h/a/b?x=1#f", "", "http://h/a/" },
	{ "http://h/a/b?x=1#f", "x y", "http://h/a/x%20y" },
	{ "http://h/a/b?x=1#f", "\303\251", "http://h/a/%c3%a9" },
	{ "http://h/a/b?x=1#f", "HTTP://O:80/Z", "http://O:80/Z" },
	{ "http://h/a/b?x=1#f", "ftp://f/x", "ftp://f/x" },
	{ "http://h/a/b?x=1#f", "mailto:a@b", NULL },
	{ "http://h/a/b?x=1#f", "../../../../x", "http://h/x" },
	{ "http://h/a/b?x=1#f", "./", "http://h/a/" },
	{ "http://h/a/b?x=1#f", "?", "http://h/a/b" },
	{ "http://h/a/b?x=1#f", "http://[::2]/x", "http://[::2]/x" },
	{ "HTTP://U:P@H:80/a/b", "../x", "http://U:P@H:80/x" },
	{ "HTTP://U:P@H:80/a/b", "?page=2", "http://U:P@H:80/a/b?page=2" },
	{ "HTTP://U:P@H:80/a/b", "//other/x", "http://other/x" },
	{ "HTTP://U:P@H:80/a/b", "https://o/y", "https://o/y" },
	{ "HTTP://U:P@H:80/a/b", "/n?p=3", "http://U:P@H:80/n?p=3" },
	{ "HTTP://U:P@H:80/a/b", "c?p=2", "http://U:P@H:80/a/c?p=2" },
	{ "HTTP://U:P@H:80/a/b", "#g", "http://U:P@H:80/a/#g" },
	{ "HTTP://U:P@H:80/a/b", "", "http://U:P@H:80/a/" },
	{ "HTTP://U:P@H:80/a/b", "x y", "http://U:P@H:80/a/x%20y" },
	{ "HTTP://U:P@H:80/a/b", "\303\251", "http://U:P@H:80/a/%c3%a9" },
	{ "HTTP://U:P@H:80/a/b", "HTTP://O:80/Z", "http://O:80/Z" },
	{ "HTTP://U:P@H:80/a/b", "ftp://f/x", "ftp://f/x" },
	{ "HTTP://U:P@H:80/a/b", "mailto:a@b", NULL },
	{ "HTTP://U:P@H:80/a/b", "../../../../x", "http://U:P@H:80/x" },
	{ "HTTP://U:P@H:80/a/b", "./", "http://U:P@H:80/a/" },
	{ "HTTP://U:P@H:80/a/b", "?", "http://U:P@H:80/a/b" },
	{ "HTTP://U:P@H:80/a/b", "http://[::2]/x", "http://[::2]/x" },
	{ "http://[::1]:8080/a/", "../x", "http://[::1]:8080/x" },
	{ "http://[::1]:8080/a/", "?page=2", "http://[::1]:8080/a/?page=2" },
	{ "http://[::1]:8080/a/", "//other/x", "http://other/x" },
	{ "http://[::1]:8080/a/", "https://o/y", "https://o/y" },
	{ "http://[::1]:8080/a/", "/n?p=3", "http://[::1]:8080/n?p=3" },
	{ "http://[::1]:8080/a/", "c?p=2", "http://[::1]:8080/a/c?p=2" },
	{ "http://[::1]:8080/a/", "#g", "http://[::1]:8080/a/#g" },
	{ "http://[::1]:8080/a/", "", "http://[::1]:8080/a/" },
	{ "http://[::1]:8080/a/", "x y", "http://[::1]:8080/a/x%20y" },
	{ "http://[::1]:8080/a/", "\303\251", "http://[::1]:8080/a/%c3%a9" },
	{ "http://[::1]:8080/a/", "HTTP://O:80/Z", "http://O:80/Z" },
	{ "http://[::1]:8080/a/", "ftp://f/x", "ftp://f/x" },
	{ "http://[::1]:8080/a/", "mailto:a@b", NULL },
	{ "http://[::1]:8080/a/", "../../../../x", "http://[::1]:8080/x" },
	{ "http://[::1]:8080/a/", "./", "http://[::1]:8080/a/" },
	{ "http://[::1]:8080/a/", "?", "http://[::1]:8080/a/" },
	{ "http://[::1]:8080/a/", "http://[::2]/x", "http://[::2]/x" },
	{ "https://h", "../x", "https://h/x" },
	{ "https://h", "?page=2", "https://h/?page=2" },
	{ "https://h", "//other/x", "https://other/x" },
	{ "https://h", "https://o/y", "https://o/y" },
	{ "https://h", "/n?p=3", "https://h/n?p=3" },
	{ "https://h", "c?p=2", "https://h/c?p=2" },
	{ "https://h", "#g", "https://h/#g" },
	{ "https://h", "", "https://h/" },
	{ "https://h", "x y", "https://h/x%20y" },
	{ "https://h", "\303\251", "https://h/%c3%a9" },
	{ "https://h", "HTTP://O:80/Z", "http://O:80/Z" },
	{ "https://h", "ftp://f/x", "ftp://f/x" },
	{ "https://h", "mailto:a@b", NULL },
	{ "https://h", "../../../../x", "https://h/x" },
	{ "https://h", "./", "https://h/" },
	{ "https://h", "?", "https://h/" },
	{ "https://h", "http://[::2]/x", "http://[::2]/x" },
	{ "http://h/a/b?token=t", "../x", "http://h/x" },
	{ "http://h/a/b?token=t", "?page=2", "http://h/a/b?page=2" },
	{ "http://h/a/b?token=t", "//other/x", "http://other/x" },
	{ "http://h/a/b?token=t", "https://o/y", "https://o/y" },
	{ "http://h/a/b?token=t", "/n?p=3", "http://h/n?p=3" },
	{ "http://h/a/b?token=t", "c?p=2", "http://h/a/c?p=2" },
	{ "http://h/a/b?token=t", "#g", "http://h/a/#g" },
	{ "http://h/a/b?token=t", "", "http://h/a/" },
	{ "http://h/a/b?token=t", "x y", "http://h/a/x%20y" },
	{ "http://h/a/b?token=t", "\303\251", "http://h/a/%c3%a9" },
	{ "http://h/a/b?token=t", "HTTP://O:80/Z", "http://O:80/Z" },
	{ "http://h/a/b?token=t", "ftp://f/x", "ftp://f/x" },
	{ "http://h/a/b?token=t", "mailto:a@b", NULL },
	{ "http://h/a/b?token=t", "../../../../x", "http://h/x" },
	{ "http://h/a/b?token=t", "./", "http://h/a/" },
	{ "http://h/a/b?token=t", "?", "http://h/a/b" },
	{ "http://h/a/b?token=t", "http://[::2]/x", "http://[::2]/x" },
	{ "not a url", "../x", NULL },
	{ "not a url", "?page=2", NULL },
	{ "not a url", "//other/x", NULL },
	{ "/relative", "../x", NULL },
	{ "/relative", "?page=2", NULL },
	{ "/relative", "//other/x", NULL },
};

static const struct origin_row origin_rows[] = {
	{ "http://h/a", "http://h:80/b?c=1", 1 },
	{ "https://h/a", "https://h:443/", 1 },
	{ "http://Api.Example.COM/x", "HTTP://api.example.com/y", 1 },
	{ "http://u:pw@h:8080/a", "http://h:8080/b", 1 },
	{ "http://[::1]:9/a", "http://[::1]:9/b", 1 },
	{ "http://[::1]/a", "http://[::1]:80/b", 1 },
	{ "http://[::1]:8080/a", "http://[0:0::1]:8080/b", 1 },
	{ "http://[::1]:8080/a", "http://[::2]:8080/a", 0 },
	{ "http://h/a", "https://h/a", 0 },
	{ "https://h/a", "http://h:443/a", 0 },
	{ "http://127.0.0.1:8001/x", "http://127.0.0.1:8002/x", 0 },
	{ "http://h/a", "http://h:8080/a", 0 },
	{ "http://h/a", "http://h.evil/a", 0 },
	{ "http://h/a", "/relative", 0 },
	{ "not a url", "not a url", 0 },
	{ "ftp://h/a", "ftp://h:21/b", 1 },
	{ "ftp://h/a", "http://h:21/b", 0 },
	{ "http://h/a", "http://h./a", 0 },
	{ "http://h/a", "http://h@evil/a", 0 },
	{ "http://h/a#x", "http://h/b?y", 1 },
	{ "http://h:080/a", "http://h/a", 1 },
	{ "http://h/p q", "http://h/x", 0 },
	{ "", "", 0 },
};

/* got equals want (both may be NULL); says which case when not. */
static void
same(const char *what, const char *in, const char *got, const char *want)
{
	int ok = (got == NULL || want == NULL) ? got == want :
	    strcmp(got, want) == 0;

	CHECK(ok);
	if (!ok)
		(void)fprintf(stderr, "  %s '%s': '%s', want '%s'\n", what, in,
		    got != NULL ? got : "(null)", want != NULL ? want : "(null)");
}

static void
test_edits(void)
{
	static const char *const names[] = { "sig" };
	const struct url_secret_params p = { names, 1, "my_key" };
	struct jbuf b = JBUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(url_rows) / sizeof(url_rows[0]); i++) {
		const struct url_row *r = &url_rows[i];

		jbuf_reset(&b);
		url_redact(NULL, r->url, &b);
		same("redact", r->url, jbuf_cstr(&b), r->redact);
		jbuf_reset(&b);
		url_strip(NULL, r->url, &b);
		same("strip", r->url, jbuf_cstr(&b), r->strip);
		jbuf_reset(&b);
		url_redact(&p, r->url, &b);
		same("redact names", r->url, jbuf_cstr(&b), r->redact_names);
		jbuf_reset(&b);
		url_strip(&p, r->url, &b);
		same("strip names", r->url, jbuf_cstr(&b), r->strip_names);
		url_drop_param(r->url, "api_key", &b);
		same("drop api_key", r->url, b.p, r->drop_api_key);
		url_drop_param(r->url, "a", &b);
		same("drop a", r->url, b.p, r->drop_a);
		url_add_param(r->url, "page", "2", &b);
		same("add page", r->url, jbuf_cstr(&b), r->add_page);
		url_add_param(r->url, "q", ADD_Q, &b);
		same("add q", r->url, jbuf_cstr(&b), r->add_q);
	}
	/* Appended, not replaced. */
	jbuf_reset(&b);
	jbuf_puts(&b, "GET ");
	url_redact(NULL, "http://u:p@h/?token=t", &b);
	same("redact appends", "", jbuf_cstr(&b), "GET http://***@h/?token=***");
	jbuf_free(&b);
}

static void
test_resolve(void)
{
	struct jbuf b = JBUF_INIT;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(resolve_rows) / sizeof(resolve_rows[0]); i++) {
		const struct resolve_row *r = &resolve_rows[i];

		jbuf_reset(&b);
		jbuf_puts(&b, "untouched");
		rc = url_resolve(r->base, r->ref, &b);
		CHECK(rc == (r->resolved != NULL ? 0 : -1));
		same(r->base, r->ref, rc == 0 ? jbuf_cstr(&b) : NULL, r->resolved);
		if (rc == -1)
			same("out on -1", r->ref, jbuf_cstr(&b), "untouched");
	}
	jbuf_free(&b);
}

/* Credentials go to one origin: scheme, host in any case, port. */
static void
test_origins(void)
{
	struct jbuf b = JBUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(origin_rows) / sizeof(origin_rows[0]); i++) {
		const struct origin_row *r = &origin_rows[i];

		CHECK(url_same_origin(r->a, r->b) == r->same);
		CHECK(url_same_origin(r->b, r->a) == r->same);
		if (url_same_origin(r->a, r->b) != r->same)
			(void)fprintf(stderr, "  origin '%s' '%s': want %d\n",
			    r->a, r->b, r->same);
	}
	CHECK(url_origin("HTTPS://U:P@Api.Example.COM/x?y#z", &b) == 0);
	same("origin", "", b.p, "https://api.example.com:443");
	CHECK(url_origin("http://[::1]:8080/x", &b) == 0);
	same("origin", "", b.p, "http://[::1]:8080");
	CHECK(url_origin("ftp://h/x", &b) == 0);
	same("origin", "", b.p, "ftp://h:21");
	jbuf_reset(&b);
	jbuf_puts(&b, "kept");
	CHECK(url_origin("http://h/p q", &b) == -1);
	CHECK(url_origin("/relative", &b) == -1);
	CHECK(url_origin("", &b) == -1);
	same("origin on -1", "", jbuf_cstr(&b), "kept");
	jbuf_free(&b);
}

static void
userinfo_case(const char *url, const char *user, const char *password)
{
	char *u, *p;

	url_userinfo(url, &u, &p);
	same("user", url, u, user);
	same("password", url, p, password);
	free(u);
	free(p);
}

/* The user information, decoded, and the secrets a URL holds. */
static void
test_userinfo(void)
{
	struct secrets *s = secrets_new();
	struct jbuf b = JBUF_INIT;
	static const char *const names[] = { "sig" };
	const struct url_secret_params p = { names, 1, "my_key" };

	userinfo_case("http://h/x", NULL, NULL);
	userinfo_case("http://u:pw@[::1]:8080/x", "u", "pw");
	userinfo_case("http://us%3Aer:p%40ss@h/x", "us:er", "p@ss");
	userinfo_case("http://user@h/x", "user", NULL);
	userinfo_case("http://u:@h/x", "u", "");
	userinfo_case("ftp://u:p@h/x", "u", "p");
	/* What CURLU refuses has none it can tell. */
	userinfo_case("http://u:p@h/p q", NULL, NULL);
	userinfo_case("not a url", NULL, NULL);

	url_secrets(&p, "http://us%3Aer:p%40ss@h/x?sig=a%2Bb&my_key=m&SIG=S&"
	    "flag&token=&Token=T+1", s);
	CHECK(secrets_in(s, "p@ss", 4));
	CHECK(secrets_in(s, "a%2Bb", 5));
	CHECK(secrets_in(s, "a+b", 3));
	CHECK(secrets_in(s, "m", 1));
	CHECK(secrets_in(s, "T+1", 3));
	CHECK(!secrets_in(s, "S", 1));		/* SIG: sig is spelled so */
	CHECK(!secrets_in(s, "us:er", 5));	/* a user beside a password */
	CHECK(!secrets_in(s, "flag", 4));
	secrets_free(s);
	/* A user name alone, as a token: that is the secret. */
	s = secrets_new();
	url_secrets(NULL, "https://ghp_abc@h/", s);
	CHECK(secrets_in(s, "ghp_abc", 7));
	secrets_free(s);

	/* The request drops what carries a known secret, and user info. */
	s = secrets_new();
	secrets_add(s, "s3cret", 6);
	url_drop_known(s, "http://o/x?a=1&next=s3cret&b=s3cret%21&c=%73%33cret"
	    "&flag#f", &b);
	same("drop known", "", b.p, "http://o/x?a=1&flag#f");
	url_drop_known(s, "http://o/x?a=1", &b);
	same("drop known", "", b.p, "http://o/x?a=1");
	secrets_free(s);
	url_drop_userinfo("http://us%3Aer:p%40ss@[::1]:8080/x?u=a@b", &b);
	same("drop userinfo", "", b.p, "http://[::1]:8080/x?u=a@b");
	url_drop_userinfo("http://h/x@y", &b);
	same("drop userinfo", "", b.p, "http://h/x@y");
	url_drop_userinfo("not a url", &b);
	same("drop userinfo", "", b.p, "not a url");
	jbuf_free(&b);
}

/*
 * Where CURLU would give other bytes: the result keeps base's spelling
 * (it names the source in checkpoint files), and a space is %20.
 */
static void
test_exact_bytes(void)
{
	struct jbuf b = JBUF_INIT;

	url_add_param("http://h/p?a=1", "q", "x y&z", &b);
	same("add", "", jbuf_cstr(&b), "http://h/p?a=1&q=x%20y%26z");
	url_add_param("HTTP://H", "a", "x y", &b);
	same("add exact", "", jbuf_cstr(&b), "HTTP://H?a=x%20y");
	url_add_param("http://h/a/../b?", "a", "1", &b);
	same("add exact", "", jbuf_cstr(&b), "http://h/a/../b?&a=1");
	url_add_param("http://h/p", "n=m", "a+b", &b);
	same("add exact", "", jbuf_cstr(&b), "http://h/p?n%3Dm=a%2Bb");
	jbuf_free(&b);
}

int
main(void)
{
	test_edits();
	test_resolve();
	test_origins();
	test_userinfo();
	test_exact_bytes();
	(void)printf("unit url: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
