#include <stdlib.h>
#include <leveldb/c.h>
