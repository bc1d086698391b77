/* noentry.c -- a shared object that is not a meshd plugin: it exports
 * something_else and no meshd_plugin_descriptor. */
int	something_else(void);

int
something_else(void)
{
	return 42;
}
