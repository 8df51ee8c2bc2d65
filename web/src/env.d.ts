// Style sheets imported for their side effect: esbuild puts them in dist/assets/app-<hash>.css.
declare module '*.css';
