typedef int booking__placeholder_t; /* to be written */
