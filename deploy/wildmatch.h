/*
 * wildmatch: shell-style matching with git's pathname rules (what
 * .gitignore patterns mean): '*' and '?' never match '/', "[...]" classes
 * with ranges, '!' or '^' negation and [:alpha:]-style names, '\' escapes,
 * and '**' between slashes matching any number of directories.
 */
#ifndef FERRY_WILDMATCH_H
#define FERRY_WILDMATCH_H

/* 1 when text matches pattern. */
int wildmatch(const char *pattern, const char *text);

#endif
