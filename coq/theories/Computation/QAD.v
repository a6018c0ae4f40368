(* Reverse-mode AD over Q (THEORY.md section 4; issue 10, item 9): the kink
   neurons K(w), the adjoints zbar_k and ybar_k with a choice D, AD_D f(w)
   and the condition NS(w), computed over Q and proved equal to the real
   definitions of Network.v and AD.v at rational points, for choices D with
   rational values [qD dq] (neuron k gets nth k dq 0). *)
From Coq Require Import Reals QArith Qreals Lra Lia List Arith.
From ADCorrect Require Import Vec Activation Network AD QAct QNet.
Import ListNotations.

(** * Definitions *)

(* a choice D with rational values *)
Definition qD (dq : list Q) : nat -> R := fun k => Q2R (nth k dq 0%Q).

(* PyTorch's choices, neuron by neuron *)
Definition torch_dq (n : qnet) : list Q := map (fun ea => qtorch (snd ea)) (q_neurons n).

Open Scope Q_scope.

(* replace position k of a list *)
Fixpoint qset (l : list Q) (k : nat) (v : Q) : list Q :=
  match l, k with
  | [], _ => []
  | _ :: l', O => v :: l'
  | a :: l', S k' => a :: qset l' k' v
  end.

Section Adjoints.
Variables (n : qnet) (u zs : list Q).

(* K(w) *)
Definition qkink_neurons : list nat :=
  filter (fun k => qis_kink (qsig n k) (qpreact n u zs k)) (seq 0 (qsize n)).

(* D sigma_k (y_k) *)
Definition qslopes_at (dq : list Q) : list Q :=
  map (fun k => qderiv (qsig n k) (nth k dq 0) (qpreact n u zs k)) (seq 0 (qsize n)).

(* zbar_k from the adjoints yb_j of the neurons j > k *)
Definition qzbar_from (yb : list Q) (k : nat) : Q :=
  qdneuron (q_input n) u zs k (q_out n) +
  qsum (map (fun j => nth j yb 0 * qdneuron (q_input n) u zs k (qtau n j))
            (seq (S k) (qsize n - S k))).

(* adjoints ybar_j of the top m neurons, from the slopes sl *)
Fixpoint qybars (sl : list Q) (m : nat) : list Q :=
  match m with
  | O => repeat 0 (qsize n)
  | S m' => let yb := qybars sl m' in
      let k := (qsize n - S m')%nat in qset yb k (qzbar_from yb k * nth k sl 0)
  end.

Definition qybar (dq : list Q) : list Q := qybars (qslopes_at dq) (qsize n).

(* the propagated gradient, coordinate p *)
Definition qgrad (yb : list Q) (p : nat) : Q :=
  qdparam (q_input n) u zs p (q_out n) +
  qsum (map (fun k => nth k yb 0 * qdparam (q_input n) u zs p (qtau n k)) (seq 0 (qsize n))).

(* NS(w), given the adjoints yb *)
Definition qNS_from (yb : list Q) : bool :=
  existsb (fun k => negb (Qeq_bool (qzbar_from yb k) 0)) qkink_neurons.

End Adjoints.

(* everything at the point u, sharing the forward and backward passes *)
Definition qzbar (n : qnet) (dq u : list Q) (k : nat) : Q :=
  let zs := qzvec n u in qzbar_from n u zs (qybar n u zs dq) k.

Definition qad (n : qnet) (dq u : list Q) : list Q :=
  let zs := qzvec n u in let yb := qybar n u zs dq in
  map (qgrad n u zs yb) (seq 0 (q_params n)).

Definition qNS (n : qnet) (dq u : list Q) : bool :=
  let zs := qzvec n u in qNS_from n u zs (qybar n u zs dq).

Close Scope Q_scope.
Open Scope R_scope.

(** * Lists *)

Lemma qset_length (l : list Q) (k : nat) (v : Q) : length (qset l k v) = length l.
Proof. revert k; induction l as [|a l IH]; intros [|k]; simpl; auto. Qed.

Lemma nth_qset (l : list Q) (k j : nat) (v : Q) : (k < length l)%nat ->
  nth j (qset l k v) 0%Q = if Nat.eq_dec j k then v else nth j l 0%Q.
Proof.
  revert k j; induction l as [|a l IH]; intros k j Hk; simpl in Hk; [lia|].
  destruct k as [|k], j as [|j]; cbn [qset nth].
  - destruct (Nat.eq_dec 0 0); congruence.
  - destruct (Nat.eq_dec (S j) 0); [lia | reflexivity].
  - destruct (Nat.eq_dec 0 (S k)); [lia | reflexivity].
  - rewrite IH by lia; destruct (Nat.eq_dec j k), (Nat.eq_dec (S j) (S k)); (reflexivity || lia).
Qed.

Lemma nth_repeat_0 (N j : nat) : nth j (repeat 0%Q N) 0%Q = 0%Q.
Proof. revert j; induction N as [|N IH]; intros [|j]; simpl; auto. Qed.

Lemma sum_list_Q2R {A : Type} (f : A -> R) (g : A -> Q) (l : list A) :
  (forall a, In a l -> f a = Q2R (g a)) -> sum_list (map f l) = Q2R (qsum (map g l)).
Proof.
  intros H; rewrite Q2R_qsum, map_map; unfold sum_list; f_equal; apply map_ext_in; auto.
Qed.

(** * Correctness *)

Section Correct.
Variables (n : qnet) (u : list Q).

Local Notation net := (to_network n).
Local Notation wv := (qpoint u).
Local Notation zs := (qzvec n u).

Theorem qkink_neurons_correct : kink_neurons net wv = qkink_neurons n u zs.
Proof.
  unfold kink_neurons, qkink_neurons; rewrite to_network_size.
  apply filter_ext_in; intros k Hk; apply in_seq in Hk.
  rewrite to_network_sigma, qpreact_correct by lia.
  destruct (in_dec Req_EM_T _ _) as [H|H]; rewrite qis_kink_correct in H;
    [now rewrite H | destruct (qis_kink _ _); tauto].
Qed.

Lemma qslopes_at_correct (dq : list Q) (k : nat) : (k < qsize n)%nat ->
  dchoice net (qD dq) wv k = Q2R (nth k (qslopes_at n u zs dq) 0%Q).
Proof.
  intros Hk; unfold dchoice, qslopes_at, qD.
  rewrite (nth_map_seq (fun k => qderiv (qsig n k) (nth k dq 0%Q) (qpreact n u zs k)))
    by exact Hk.
  rewrite to_network_sigma, qpreact_correct by exact Hk; apply qderiv_correct.
Qed.

Lemma qzbar_from_correct (yb : nat -> R) (ybq : list Q) (k : nat) :
  (forall j, yb j = Q2R (nth j ybq 0%Q)) ->
  zbar_from net wv yb k = Q2R (qzbar_from n u zs ybq k).
Proof.
  intros Hyb; unfold zbar_from, qzbar_from; rewrite Q2R_plus.
  simpl n_out at 1; rewrite dneuron_correct; f_equal.
  rewrite to_network_size; apply sum_list_Q2R; intros j Hj; apply in_seq in Hj.
  rewrite Q2R_mult, Hyb, to_network_tau by lia; rewrite dneuron_correct; reflexivity.
Qed.

Lemma qybars_length (sl : list Q) (m : nat) : length (qybars n u zs sl m) = qsize n.
Proof. induction m as [|m IH]; simpl; [apply repeat_length | rewrite qset_length; exact IH]. Qed.

Lemma qybars_correct (sl : nat -> R) (slq : list Q) :
  (forall k, (k < qsize n)%nat -> sl k = Q2R (nth k slq 0%Q)) ->
  forall m j, (m <= qsize n)%nat ->
    ybars_sl net sl wv m j = Q2R (nth j (qybars n u zs slq m) 0%Q).
Proof.
  intros Hsl m; induction m as [|m IH]; intros j Hm; simpl.
  - rewrite nth_repeat_0; symmetry; apply Q2R_0.
  - rewrite to_network_size, nth_qset by (rewrite qybars_length; lia).
    destruct (Nat.eq_dec j (qsize n - S m)) as [->|Hne]; [|apply IH; lia].
    rewrite Q2R_mult, <- Hsl by lia.
    rewrite (qzbar_from_correct _ (qybars n u zs slq m)) by (intros; apply IH; lia).
    reflexivity.
Qed.

Variable dq : list Q.

Theorem qybar_correct (k : nat) : ybar net (qD dq) wv k = Q2R (nth k (qybar n u zs dq) 0%Q).
Proof.
  unfold ybar, ybar_sl, qybar; rewrite to_network_size.
  apply qybars_correct; [intros j Hj; apply qslopes_at_correct, Hj | lia].
Qed.

Theorem qzbar_correct (k : nat) : zbar net (qD dq) wv k = Q2R (qzbar n dq u k).
Proof. unfold zbar, zbar_sl, qzbar; apply qzbar_from_correct; exact qybar_correct. Qed.

Theorem qad_correct (p : nat) : (p < q_params n)%nat ->
  ad net (qD dq) wv p = Q2R (nth p (qad n dq u) 0%Q).
Proof.
  intros Hp; unfold ad, grad_sl, qad; cbv zeta.
  rewrite (nth_map_seq (qgrad n u zs (qybar n u zs dq))) by exact Hp.
  unfold qgrad; rewrite Q2R_plus; simpl n_out at 1; rewrite dparam_correct; f_equal.
  rewrite to_network_size; apply sum_list_Q2R; intros k Hk; apply in_seq in Hk.
  rewrite Q2R_mult, to_network_tau by lia; rewrite dparam_correct.
  fold (ybar net (qD dq) wv k); rewrite qybar_correct; reflexivity.
Qed.

Theorem qNS_correct : NS net (qD dq) wv <-> qNS n dq u = true.
Proof.
  unfold NS, qNS, qNS_from; rewrite qkink_neurons_correct, existsb_exists; split.
  - intros [k [Hk Hz]]; exists k; split; [exact Hk|].
    rewrite qzbar_correct in Hz; unfold qzbar in Hz.
    apply Bool.negb_true_iff, Q2R_neq_b; rewrite Q2R_0; exact Hz.
  - intros [k [Hk Hz]]; exists k; split; [exact Hk|].
    rewrite qzbar_correct; unfold qzbar.
    apply Bool.negb_true_iff, Q2R_neq_b in Hz; rewrite Q2R_0 in Hz; exact Hz.
Qed.

End Correct.
