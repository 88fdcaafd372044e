/** Kubernetes objects as tests write and poke them: any field, any depth (the product reads them as lib/k8s.ts `Obj`). */
export type Loose = Record<string, any>;
