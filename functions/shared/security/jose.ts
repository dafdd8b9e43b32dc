/**
 * The part of jose that tokens.ts uses, as its own module so `import()` of it stays tree-shaken
 * (a dynamic import of 'jose' itself would pull in the whole package).
 */
export { errors, jwtVerify, SignJWT } from 'jose';
