/* placeholder: filled in by its owner this session */
int main(void) { return 0; }
