#include "detect.h"

static int
digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int
num2(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* "HH:MM" at s, within bounds; n is what is left. */
static int
hhmm(const char *s, size_t n)
{
	return n >= 5 && digits(s, 2) && s[2] == ':' && digits(s + 3, 2) &&
	    num2(s) <= 23 && num2(s + 3) <= 59;
}

static int
offset(const char *s, size_t n)
{
	if (n == 1 && s[0] == 'Z')
		return 1;
	if (n == 0 || (s[0] != '+' && s[0] != '-'))
		return 0;
	s++, n--;
	if (n == 5)
		return hhmm(s, n);
	if (n == 4 && digits(s, 4))
		return num2(s) <= 23 && num2(s + 2) <= 59;
	return n == 2 && digits(s, 2) && num2(s) <= 23;
}

enum detect_kind
detect_temporal(const char *s, size_t n)
{
	int month, day;
	size_t i;

	if (n < 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) ||
	    s[7] != '-' || !digits(s + 8, 2))
		return DETECT_NONE;
	month = num2(s + 5);
	day = num2(s + 8);
	if (month < 1 || month > 12 || day < 1 || day > 31)
		return DETECT_NONE;
	if (n == 10)
		return DETECT_DATE;
	if (s[10] != 'T' && s[10] != ' ')
		return DETECT_NONE;
	s += 11, n -= 11;
	if (!hhmm(s, n))
		return DETECT_NONE;
	s += 5, n -= 5;
	/* Seconds are required: "2024-01-02T03:04" is too often a label. */
	if (n < 3 || s[0] != ':' || !digits(s + 1, 2) || num2(s + 1) > 60)
		return DETECT_NONE;
	s += 3, n -= 3;
	if (n >= 2 && (s[0] == '.' || s[0] == ',') && digits(s + 1, 1)) {
		for (i = 1; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		s += i, n -= i;
	}
	if (n == 0 || offset(s, n))
		return DETECT_TIMESTAMP;
	return DETECT_NONE;
}
